"""c360: a Customer 360 view from an OTT TV service's raw viewing and search logs."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
