"""Dagster wiring: assets per source, dbt assets, checks, partitions, schedules."""

import warnings

import dagster as dg

# Single-run backfill policies and pools are deliberate; their beta notices only clutter every run's output.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
