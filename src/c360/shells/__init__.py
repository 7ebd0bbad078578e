"""The shells: thin layers over the façade :class:`c360.app.C360`, side by side.

Each one turns its own kind of request into a call of a façade use case and shows the report that
comes back; none reads the lake, the warehouse or the inputs itself, and none holds a business
rule (an import-linter contract keeps c360's internals out of reach here):

* :mod:`c360.shells.cli` — the ``c360`` command line;
* :mod:`c360.shells.api` — the HTTP API and the dashboard (``c360 serve``);
* :mod:`c360.shells.stream` — the stream simulator, ingester and processor commands;
* :mod:`c360.shells.airflow` — the daily Airflow DAG.
"""
