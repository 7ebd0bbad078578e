"""Builds: the transform stage's units, each from the lake's bronze (or earlier gold) to tables.

``content_dates`` (silver, date by date, and the window totals) → ``content_gold`` (the star
schema, the profile, the daily summaries, the quarantine) → ``search_gold`` (keyword genres,
monthly tops, taste change) → ``customer_360`` (the unified view through the bridge).
"""
