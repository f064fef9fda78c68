"""The session's medication administration record: PRN doses given under a standing order."""

from __future__ import annotations

from django.db import models

from ketamine_clinic.storage.models.sessions import _Entry


class PrnDose(_Entry):
    """One PRN dose given: the standing order's code, drug, dose, route and why; the
    clinician is ``recorded_by`` and the clinical time ``at`` (never edited: a correction
    is an amendment)."""

    order_code = models.CharField(max_length=40)
    drug = models.CharField(max_length=60)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=2)
    route = models.CharField(max_length=40)
    indication = models.CharField(max_length=200)

    class Meta(_Entry.Meta):
        db_table = "kc_prn_dose"
        constraints = [
            *_Entry.Meta.constraints,
            models.CheckConstraint(condition=models.Q(dose_mg__gt=0), name="kc_prn_dose_positive"),
        ]
