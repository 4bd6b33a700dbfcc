"""The conformance suite every broker plugin must pass, and the VenueHarness contract."""

from autotrader.testing.harness import (
    Fault,
    HarnessSession,
    LedgerOrder,
    LedgerTrade,
    VenueControl,
    VenueHarness,
)

__all__ = ["Fault", "HarnessSession", "LedgerOrder", "LedgerTrade", "VenueControl", "VenueHarness"]
