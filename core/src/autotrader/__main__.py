"""``python -m autotrader`` is the ``autotrader`` command."""

from autotrader.cli import main

main()
