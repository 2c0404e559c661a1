"""Helpers beyond the lecture's core, one module per concern (the core is in lenet_helpers)."""
