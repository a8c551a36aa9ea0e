"""Engines: one module per engine on the interface in base.py; registry.py maps model names."""
