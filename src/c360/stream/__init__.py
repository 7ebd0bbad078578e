"""Streaming: the simulator, ingestion of what it serves, and the micro-batch processor
(SPEC §8.2)."""
