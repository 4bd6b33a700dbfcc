"""The conformance suite every broker plugin must pass, and the VenueHarness contract."""

from autotrader.testing.harness import (
    ExternalVenue,
    ExternalVenueHarness,
    Fault,
    HarnessSession,
    LedgerOrder,
    LedgerTrade,
    VenueControl,
    VenueHarness,
)

__all__ = [
    "ExternalVenue",
    "ExternalVenueHarness",
    "Fault",
    "HarnessSession",
    "LedgerOrder",
    "LedgerTrade",
    "VenueControl",
    "VenueHarness",
]
