"""Input sources: each one discovers its inputs in the window, skips what the ledger says is
unchanged, writes the rest to bronze, records it in the ledger and checks the inputs
(:class:`c360.sources.base.Source`)."""
