"""Kanin's Qt layer: the window, its widgets and models, and the adapters from core events."""
