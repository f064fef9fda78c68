"""Treatment courses, their planned visits, chairs, and the end-of-induction decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Chair(models.Model):
    name = models.CharField(max_length=40, unique=True)
    active = models.BooleanField(default=True)
    #: The chair's own hours inside the clinic's (e.g. a chair staffed only mornings); blank = the clinic's.
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_chair"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    STATUSES = [
        ("induction", "induction"),
        ("decision_due", "decision due"),
        ("maintenance", "maintenance"),
        ("referred", "referred to an alternative"),
        ("completed", "completed"),
        ("cancelled", "cancelled"),
    ]
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="courses")
    protocol = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=STATUSES, default="induction")
    dose_mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2)
    baseline_instrument = models.CharField(max_length=20, default="phq9")
    baseline_score = models.PositiveSmallIntegerField(null=True, blank=True)
    oral_antidepressant = models.CharField(
        max_length=120, blank=True, help_text="esketamine: the oral antidepressant given with it (MDSI: required)"
    )
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    planned_at = models.DateTimeField()

    ACTIVE = ("induction", "decision_due", "maintenance")

    class Meta:
        db_table = "kc_course"
        ordering = ["-planned_at", "-id"]
        indexes = [models.Index(fields=["status"], name="kc_course_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status__in=["induction", "decision_due", "maintenance"]),
                name="kc_course_one_active_per_patient",
            ),
        ]


class Visit(models.Model):
    STATUSES = [("scheduled", "scheduled"), ("done", "done"), ("cancelled", "cancelled"), ("no_show", "no-show")]
    PHASES = [("induction", "induction"), ("maintenance", "maintenance")]

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="visits")
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="visits")
    number = models.PositiveSmallIntegerField()
    phase = models.CharField(max_length=20, choices=PHASES)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    chair = models.ForeignKey(Chair, on_delete=models.PROTECT, related_name="visits")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=STATUSES, default="scheduled")
    cancel_reason = models.CharField(max_length=200, blank=True)
    #: Check-in at the front desk (arrival); blank until the patient arrives.
    arrived_at = models.DateTimeField(null=True, blank=True)
    arrived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "kc_visit"
        ordering = ["starts_at", "id"]
        indexes = [
            # "booked ahead?" per course (the desk's booster list, the recall list): a network
            # has ~100,000 visits of which a few thousand are still scheduled
            models.Index(
                fields=["course", "starts_at"],
                name="kc_visit_scheduled_ahead",
                condition=models.Q(status="scheduled"),
            ),
            # the Today board's "induction decision due": courses with no induction visit
            # left to give (an anti-join over a few thousand entries, not every visit)
            models.Index(
                fields=["course"],
                name="kc_visit_induction_ahead",
                condition=models.Q(status="scheduled", phase="induction"),
            ),
        ]


class CourseDecision(models.Model):
    """The end-of-induction decision: the system's suggestion and the prescriber's choice."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="decisions")
    suggested = models.CharField(max_length=20)
    suggested_reasons = models.JSONField(default=list)
    decision = models.CharField(max_length=20)
    override_reason = models.TextField(blank=True)
    next_visit_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        db_table = "kc_course_decision"
        ordering = ["-decided_at", "-id"]


class WaitlistEntry(models.Model):
    """A patient waiting for an earlier or a first slot; open until booked or removed."""

    STATUSES = [("waiting", "waiting"), ("booked", "booked"), ("removed", "removed")]
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="waitlist")
    wanted = models.CharField(max_length=200, help_text="what the patient waits for (days, times, a sooner slot)")
    status = models.CharField(max_length=20, choices=STATUSES, default="waiting")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_waitlist_entry"
        ordering = ["added_at", "id"]
