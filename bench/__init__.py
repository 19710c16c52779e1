"""Kanin's benchmarks: ``python -m bench`` (``make bench``) writes docs/BENCHMARKS.md.

Benchmarks are not tests: nothing here asserts on timing; figures are reported
next to their targets, met or missed.
"""
