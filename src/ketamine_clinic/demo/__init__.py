"""Demonstration data, a shell beside ``cli``: the demo clinic ``make run`` loads
(``clinic``, written through the services like a real clinic) and the multi-year network
the benchmarks need (``network``, written in bulk with a valid audit chain)."""

from ketamine_clinic.demo.clinic import DEMO_PASSWORD, DEMO_STAFF, STAGES, demo_logins, load_demo

__all__ = ["DEMO_PASSWORD", "DEMO_STAFF", "STAGES", "demo_logins", "load_demo"]
