"""Benchmarks: each module runs rxasync and its raw baseline in one process and prints the ratio."""
