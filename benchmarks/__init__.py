"""Benchmarks that print their figures; run them as modules from the repository root."""
