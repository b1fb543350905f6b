"""The Django admin of data sources; importing the module registers it."""

from datasources.admin.source_admin import DataSourceAdmin

__all__ = ["DataSourceAdmin"]
