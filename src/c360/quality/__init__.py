"""Data quality: checks judged after each stage, their results, and the records of each run."""
