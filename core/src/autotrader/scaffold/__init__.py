"""Plugin scaffolding: ``autotrader new-plugin NAME`` writes a working broker plugin skeleton.

The skeleton passes the conformance suite the moment it is installed, because it ships a thin
in-memory venue.  The author then replaces that venue with a simulator of the broker's real wire
protocol and the adapter's transport with the broker's client library, keeping the suite green
at every step.  See :func:`create_plugin`.
"""

from autotrader.scaffold.generate import ScaffoldError, create_plugin, validate_name

__all__ = ["ScaffoldError", "create_plugin", "validate_name"]
