from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ketamine_clinic.web"
    label = "web"

    def ready(self) -> None:
        from ketamine_clinic.web import signals  # noqa: F401  (connects the handlers)
