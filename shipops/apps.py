from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ShipOpsConfig(AppConfig):
    """Project-level commands (serve, demo data) and system checks."""

    default = True
    name = "shipops"
    verbose_name = "ShipOps"


class ShipOpsAdminConfig(admin_apps.AdminConfig):
    """The Django admin, branded for operations staff."""

    default = False
    default_site = "shipops.admin_site.ShipOpsAdminSite"
