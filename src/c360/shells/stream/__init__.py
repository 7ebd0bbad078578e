"""The streaming commands (SPEC §8.2), each parsing its flags and calling the façade, as the CLI
does.

* :mod:`c360.shells.stream.simulate` — ``c360 simulate``: the event simulator (song votes and
  viewing events over HTTP, with injected faults) on uvicorn.

Still to come: ``c360 stream``, the ingester that lands what it polls durably (files or NATS
JetStream) and the micro-batch processor that keeps ``live_leaderboard`` and ``live_usage``.
"""
