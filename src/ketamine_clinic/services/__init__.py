"""The only code that writes: ``do_<verb>_<noun>(..., *, acting_user)`` in one transaction
with its audit row, and ``access_<noun>_by_id`` to load patient-scoped rows."""
