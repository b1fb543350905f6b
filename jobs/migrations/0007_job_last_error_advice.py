"""Keep a stopped job's advice apart from its error, so that it is said only while it holds.

Errors stored before this migration end with their advice; it is moved to
``Job.last_error_advice`` where the executor now puts it, and dropped where
the recovery summary now says it from the rows ("Resume will retry row 6").
A row's error never carries advice any more: resume is the job's.
"""

import re

from django.db import migrations, models

# The advice the executor wrote at the end of its errors, as it now stores it apart.
KEPT = (
    "Resume sends the row again as it is. To change it, fix it in the source, then cancel this "
    "job and create a new one from the source: rows already shipped are left out.",
    "Check the UPS credentials, then resume.",
    "Resume once the source can be read.",
    "Cancel this job and create a new one from the source: rows already shipped are left out "
    "automatically.",
)
# The advice the recovery summary now gives from the rows as they are.
DROPPED = re.compile(
    r" (Resume will retry row \d+\."
    r"|Resume will look it up by its reference \S+ before shipping anything else\.)$"
)


def split(message):
    """Return ``message`` without the advice it ends with, and the advice to keep."""
    for advice in KEPT:
        if message.endswith(f" {advice}"):
            return message[: -len(advice) - 1], advice
    return DROPPED.sub("", message), ""


def forwards(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    JobRow = apps.get_model("jobs", "JobRow")
    jobs = Job.objects.exclude(last_error_message="").values_list("pk", "last_error_message")
    for pk, stored in jobs.iterator():
        message, advice = split(stored)
        if message != stored:
            Job.objects.filter(pk=pk).update(last_error_message=message, last_error_advice=advice)
    rows = JobRow.objects.exclude(error_message="").values_list("pk", "error_message")
    for pk, stored in rows.iterator():
        message, _advice = split(stored)
        if message != stored:
            JobRow.objects.filter(pk=pk).update(error_message=message)


def backwards(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    for job in Job.objects.exclude(last_error_advice="").iterator():
        Job.objects.filter(pk=job.pk).update(
            last_error_message=f"{job.last_error_message} {job.last_error_advice}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0006_row_recipient_as_read"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="last_error_advice",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
