from django.contrib.auth.views import LogoutView
from django.urls import path

from ketamine_clinic.web.views import admin, auth, desk, home, patients

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("clinic/", home.clinic_home, name="clinic-home"),
    path("clinic/patients/", patients.patient_list, name="patient-list"),
    path("clinic/patients/<int:patient_id>/", patients.patient_chart, name="patient-chart"),
    path("desk/", desk.calendar, name="desk-home"),
    path("desk/visits/<int:visit_id>/", desk.visit_detail, name="desk-visit"),
    path("me/", home.me_home, name="me-home"),
    path("admin-area/", admin.admin_home, name="admin-home"),
    path("admin-area/users/", admin.users, name="admin-users"),
    path("admin-area/users/<int:user_id>/", admin.user_edit, name="admin-user-edit"),
    path("admin-area/settings/", admin.clinic_settings, name="admin-settings"),
    path("admin-area/audit/", admin.audit_log, name="admin-audit"),
]
