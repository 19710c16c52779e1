"""Kanin's engine: settings, tasks, topology, producer, workers, pool, monitor, CLI. No Qt."""

__version__ = "0.1.0"
