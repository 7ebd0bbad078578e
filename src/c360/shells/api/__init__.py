"""The HTTP API and the analyst dashboard, served by ``c360 serve`` (SPEC §8.1). Not built yet.

What will live here: a FastAPI application whose endpoints (under ``/api/v1``) depend on the
loaded façade and return pydantic models — customer profiles by contract and by user id,
segments, top apps, usage, search trends, a keyword's genre, runs with their checks and
quarantine counts, ``/healthz`` and ``/readyz`` — with API-key authentication; and the dashboard
pages and their static assets, served by the same server.
"""
