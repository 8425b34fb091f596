"""Extraction: what a sync fetches from the sources and writes to the lake, without Dagster.

sources (HTTP) -> extract (records to rows, units of work) -> lake (Parquet).
"""
