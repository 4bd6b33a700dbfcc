"""Credentials: from the environment or an owner-only file; never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autotrader.credentials import Secret, load_credentials
from autotrader.errors import ConfigError


def test_environment_first_then_file(tmp_path: Path) -> None:
    file = tmp_path / "creds.yaml"
    file.write_text("api_key: from-file\napi_secret: file-secret\n")
    os.chmod(file, 0o600)
    creds = load_credentials(
        ["api_key", "api_secret"], env_prefix="BINANCE_", file=file, environ={"BINANCE_API_KEY": "from-env"}
    )
    assert creds["api_key"].reveal() == "from-env"
    assert creds["api_secret"].reveal() == "file-secret"
    assert "file-secret" not in repr(creds) and "from-env" not in str(creds)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_readable_by_others_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    file = tmp_path / "creds.yaml"
    file.write_text("api_secret: s3cr3t\n")
    os.chmod(file, mode)
    with pytest.raises(ConfigError, match=f"chmod 600 {file}") as info:
        load_credentials(["api_secret"], env_prefix="X_", file=file, environ={})
    assert "s3cr3t" not in str(info.value)


def test_missing_file_and_bad_shape(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such"):
        load_credentials(["k"], env_prefix="X_", file=tmp_path / "nope", environ={})
    bad = tmp_path / "creds.yaml"
    bad.write_text("- a\n")
    os.chmod(bad, 0o600)
    with pytest.raises(ConfigError, match="mapping"):
        load_credentials(["k"], env_prefix="X_", file=bad, environ={})


def test_secret_cannot_be_pickled_or_formatted() -> None:
    import pickle

    secret = Secret("hunter2")
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert "hunter2" not in f"{secret:s}"
