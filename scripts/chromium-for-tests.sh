#!/usr/bin/env bash
# Install Debian's Chromium (headless) for the report's browser test, if it is not there yet.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
/usr/bin/chromium --version
