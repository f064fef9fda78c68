from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "ketamine_clinic.storage"
    label = "storage"
    verbose_name = "Ketamine Clinic records"
    default_auto_field = "django.db.models.BigAutoField"
