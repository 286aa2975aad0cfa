"""An event-sourced fund accounting ledger for China's public medical-insurance funds."""
