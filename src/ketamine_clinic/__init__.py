"""Ketamine Clinic: runs a ketamine infusion therapy program end to end."""

__version__ = "0.1.0"
