"""Jobs remember which column their rows' keys name, so keys of another column never match."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Trim


def keys_as_their_source_names_them_now(apps, schema_editor):
    """Jobs made before this field: their source's key column today is the best guess."""
    Job = apps.get_model("jobs", "Job")
    DataSource = apps.get_model("datasources", "DataSource")
    column = DataSource.objects.filter(pk=OuterRef("data_source_id")).values("key_column")[:1]
    Job.objects.update(key_column=Trim(Subquery(column)))


class Migration(migrations.Migration):
    dependencies = [
        ("datasources", "0001_initial"),
        ("jobs", "0003_recovery_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="key_column",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.RunPython(keys_as_their_source_names_them_now, migrations.RunPython.noop),
    ]
