"""Benchmarks run by `make bench` against the sandbox with injected latency; see run.py."""
