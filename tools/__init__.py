"""Maintenance tools for the companion: run them as modules from the repository root,
e.g. `python -m tools.refresh` or `python -m tools.navigation`."""
