"""The ``c360`` command line: :mod:`~c360.shells.cli.commands` parses the flags and calls the
façade, :mod:`~c360.shells.cli.render` prints what it returns."""

from __future__ import annotations

from c360.shells.cli.commands import app, main

__all__ = ["app", "main"]
