"""Input discovery and the lake's ingestion state."""
