"""Runs: a batch run as a short sequence of stages (:mod:`c360.runs.batch`), the stage wrapper,
the run in progress kept between stages, run records, and a classification run."""
