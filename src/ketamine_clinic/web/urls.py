from django.contrib.auth.views import LogoutView
from django.urls import path

from ketamine_clinic.web.views import (
    account,
    admin,
    alerts,
    auth,
    clinical,
    desk,
    home,
    me,
    patients,
    sessions,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("account/password/", account.password_change, name="password-change"),
    path("account/reset/", account.password_reset, name="password-reset"),
    path("account/two-factor/", account.two_factor_verify, name="two-factor-verify"),
    path("account/two-factor/setup/", account.two_factor_setup, name="two-factor-setup"),
    path("account/reset/<uidb64>/<token>/", account.password_reset_confirm, name="password-reset-confirm"),
    # clinicians
    path("clinic/", home.clinic_home, name="clinic-home"),
    path("clinic/patients/", patients.patient_list, name="patient-list"),
    path("clinic/patients/<int:patient_id>/", patients.patient_chart, name="patient-chart"),
    path("clinic/patients/<int:patient_id>/intake/", clinical.intake_new, name="intake-new"),
    path(
        "clinic/patients/<int:patient_id>/intake/<int:intake_id>/",
        clinical.intake_detail,
        name="intake-detail",
    ),
    path("clinic/patients/<int:patient_id>/course/", clinical.course_new, name="course-new"),
    path(
        "clinic/courses/<int:course_id>/decision/",
        clinical.induction_decision,
        name="induction-decision",
    ),
    path("clinic/visits/<int:visit_id>/order/", clinical.order_new, name="order-new"),
    path("clinic/visits/<int:visit_id>/session/", sessions.open_session, name="session-open"),
    path("clinic/orders/<int:order_id>/verify/", clinical.order_verify, name="order-verify"),
    path("clinic/sessions/<int:session_id>/", sessions.session_page, name="session"),
    path("clinic/sessions/<int:session_id>/checklist/", sessions.checklist, name="session-checklist"),
    path("clinic/sessions/<int:session_id>/pump/", sessions.pump, name="session-pump"),
    path("clinic/sessions/<int:session_id>/device/", sessions.nasal_device, name="session-device"),
    path("clinic/sessions/<int:session_id>/vitals/", sessions.record_vitals, name="session-vitals"),
    path(
        "clinic/sessions/<int:session_id>/vitals/<int:vital_id>/amend/",
        sessions.amend_vitals,
        name="session-amend-vitals",
    ),
    path(
        "clinic/sessions/<int:session_id>/side-effects/",
        sessions.side_effect,
        name="session-side-effect",
    ),
    path(
        "clinic/sessions/<int:session_id>/assessment/",
        sessions.assessment,
        name="session-assessment",
    ),
    path("clinic/sessions/<int:session_id>/notes/", sessions.note, name="session-note"),
    path("clinic/sessions/<int:session_id>/notes/<int:note_id>/amend/", sessions.amend_note, name="session-amend-note"),
    path("clinic/sessions/<int:session_id>/discharge/", sessions.discharge, name="session-discharge"),
    path("clinic/alerts/", alerts.alert_list, name="alert-list"),
    path("clinic/alerts/<int:alert_id>/", alerts.alert_detail, name="alert"),
    # front desk
    path("desk/", desk.calendar, name="desk-home"),
    path("desk/patients/new/", patients.patient_new, name="patient-new"),
    path("desk/boosters/", desk.book_booster, name="desk-booster"),
    path("desk/visits/<int:visit_id>/", desk.visit_detail, name="desk-visit"),
    # patients
    path("me/", home.me_home, name="me-home"),
    path("me/questionnaires/<str:code>/", me.questionnaire, name="me-questionnaire"),
    # administration
    path("admin-area/", admin.admin_home, name="admin-home"),
    path("admin-area/users/", admin.users, name="admin-users"),
    path("admin-area/users/<int:user_id>/", admin.user_edit, name="admin-user-edit"),
    path("admin-area/settings/", admin.clinic_settings, name="admin-settings"),
    path("admin-area/care-teams/", admin.care_teams, name="admin-care-teams"),
    path("admin-area/audit/", admin.audit_log, name="admin-audit"),
]
