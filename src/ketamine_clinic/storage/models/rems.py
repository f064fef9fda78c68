"""The SPRAVATO REMS: the site's certification, patient enrolment, the prescriber on site
and pulse oximetry of each nasal session, each device's lot, and the Patient Monitoring
Form with its submission."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RemsCertification(models.Model):
    """The healthcare setting's REMS certification; the latest row is in force."""

    certification_id = models.CharField(max_length=40)
    setting_name = models.CharField(max_length=120)
    authorized_representative = models.CharField(max_length=120)
    certified_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "kc_rems_certification"
        ordering = ["-recorded_at", "-id"]


class RemsEnrolment(models.Model):
    """A patient's REMS enrolment, required before the first esketamine order."""

    patient = models.OneToOneField("storage.Patient", on_delete=models.PROTECT, related_name="rems_enrolment")
    rems_patient_id = models.CharField(max_length=40)
    enrolled_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "kc_rems_enrolment"


class RemsSessionRecord(models.Model):
    """The REMS parts of one nasal session and its Patient Monitoring Form."""

    session = models.OneToOneField("storage.InfusionSession", on_delete=models.PROTECT, related_name="rems")
    prescriber_on_site = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pulse_oximetry = models.BooleanField(default=False)
    on_site_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_site_recorded_at = models.DateTimeField(null=True, blank=True)
    lot_number = models.CharField(max_length=40, blank=True, help_text="the lot of the devices being given now")
    lot_expiry = models.DateField(null=True, blank=True)
    # the monitoring form's answers that the session does not hold
    sedation = models.BooleanField(null=True, blank=True)
    dissociation = models.BooleanField(null=True, blank=True)
    respiratory_depression = models.BooleanField(null=True, blank=True)
    ready_to_leave_min = models.PositiveSmallIntegerField(null=True, blank=True)
    serious_adverse_events = models.CharField(max_length=500, blank=True)
    answers_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answers_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submission_reference = models.CharField(max_length=60, blank=True)

    class Meta:
        db_table = "kc_rems_session"


class RemsDeviceLot(models.Model):
    """The lot and expiry of one esketamine device given (a ``PumpEvent`` of kind device)."""

    event = models.OneToOneField("storage.PumpEvent", on_delete=models.PROTECT, related_name="rems_lot")
    lot_number = models.CharField(max_length=40)
    expiry = models.DateField()

    class Meta:
        db_table = "kc_rems_device_lot"
