from django.contrib import admin

from datasources.models import DataSource


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "location", "key_column", "default_service_code", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "file_path", "table_name"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "kind"]}),
        ("File", {"fields": ["file_path", "sheet_name"]}),
        ("Database table", {"fields": ["db_alias", "table_name"]}),
        ("Rows", {"fields": ["key_column", "column_mapping"]}),
        ("Write-back", {"fields": ["tracking_column", "shipped_at_column"]}),
        (
            "Defaults",
            {
                "fields": [
                    "default_service_code",
                    "default_packaging_code",
                    "default_weight_lbs",
                    "ship_from_override",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
