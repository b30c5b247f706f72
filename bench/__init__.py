"""Benchmarks: each prints its own result next to a baseline measured in the same run."""
