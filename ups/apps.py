from django.apps import AppConfig


class UpsConfig(AppConfig):
    """UPS client and the local sandbox; holds no models (``ups`` never touches the ORM)."""

    name = "ups"
    verbose_name = "UPS"
