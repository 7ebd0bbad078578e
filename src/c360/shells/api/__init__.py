"""The HTTP API (and, to come, the analyst dashboard) served by ``c360 serve`` (SPEC §8.1).

:mod:`~c360.shells.api.routes` builds the FastAPI application over the façade's serving use
cases, :mod:`~c360.shells.api.models` holds its response models and
:mod:`~c360.shells.api.security` its API keys and headers; :mod:`~c360.shells.api.server` runs it
on uvicorn.
"""
