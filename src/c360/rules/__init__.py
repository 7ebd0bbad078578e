"""Pure business rules.

Every rule takes Ibis tables and plain parameters and returns an Ibis table. Rules never open a
file or a connection and never read the environment, so the same definitions compile to DuckDB SQL
and to Spark, and tests can inspect the SQL they produce without running an engine.
"""
