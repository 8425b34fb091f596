"""The lake: partitioned Parquet files, the DuckDB catalog over them, and publishing.

Knows files and DuckDB, nothing of HTTP or Dagster.
"""
