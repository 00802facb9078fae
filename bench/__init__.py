"""Benchmarks anyone can rerun; results are written up in docs/benchmarks.md."""
