from django.contrib import admin


class ShipOpsAdminSite(admin.AdminSite):
    """The admin operations staff work in: jobs first, then sources, then the audit trail."""

    site_header = "ShipOps"
    site_title = "ShipOps"
    index_title = "Batch shipping"
