"""The streaming commands, ``c360 simulate`` and ``c360 stream`` (SPEC §8.2). Not built yet.

What will live here: the commands that start the event simulator (votes and viewing events, with
injected faults), the ingester that lands what it polls durably (files or NATS JetStream), and
the micro-batch processor that keeps ``live_leaderboard`` and ``live_usage`` — each parsing its
flags and calling the façade, as the CLI does.
"""
