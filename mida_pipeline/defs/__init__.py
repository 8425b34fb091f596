"""Dagster wiring: assets per source, dbt assets, checks, partitions, schedules."""
