"""Benchmarks: `make bench` (python -m bench). Each prints a table and writes bench/results/*.json.

Every number is reported next to a raw baseline measured in the same run, as a ratio, so results
compare across machines; nothing here asserts a time.
"""
