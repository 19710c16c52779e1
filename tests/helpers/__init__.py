"""Test helpers: event recorders, broker access, the tutorial's scripts."""
