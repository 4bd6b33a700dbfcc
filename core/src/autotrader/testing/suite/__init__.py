"""The broker conformance suite: run with ``pytest --autotrader-broker NAME``.

Every test talks through the plugin's real adapter to its local venue and checks the outcome
against the venue's own ledger.  Tests are gated on capabilities with
``@pytest.mark.requires(...)`` and run under each async backend the broker supports.
"""
