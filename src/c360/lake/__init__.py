"""The lake: its folder layout (the only code that spells folder names), the ledger of ingested
inputs, small state documents written atomically, and the one-run-at-a-time lock."""
