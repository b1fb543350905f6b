"""Jobs remember whether they ship already-shipped rows again; rows are found by key and content."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0004_job_key_column"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="include_already_shipped",
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name="jobrow",
            index=models.Index(
                fields=["source_key", "source_checksum"], name="row_source_key_checksum"
            ),
        ),
    ]
