"""The daily Airflow DAG ``c360_daily`` (SPEC §8.3). Not built yet.

What will live here: the DAG whose tasks call the façade's stages in turn (wait for the day's
files, ingest, transform, classify, check, publish, refresh the online store), retrying only
transient errors, one active run at a time (the lake lock), backfills of a date range as one run
over the range. Airflow runs in its own environment; this module is its only contact with c360.
"""
