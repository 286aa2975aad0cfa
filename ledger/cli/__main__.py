"""``python -m ledger.cli``: the command line, as the ``ledger`` entry point runs it."""

from ledger.cli import main

main()
