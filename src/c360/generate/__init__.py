"""Synthetic OTT logs in the exact raw formats, deterministic from a seed (SPEC 6)."""
