import logging
from typing import Any

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Shipping jobs"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from datasources.signals import location_change_requested, source_changed
        from jobs.services.audit import audit_source_change
        from jobs.services.source_guard import refuse_location_change_under_way

        post_spawn.connect(recover_on_worker_start, dispatch_uid="shipops-recover-on-start")
        source_changed.connect(audit_source_change, dispatch_uid="shipops-audit-source-change")
        location_change_requested.connect(
            refuse_location_change_under_way, dispatch_uid="shipops-source-location-guard"
        )


def recover_on_worker_start(sender: Any, proc_name: str = "", **kwargs: Any) -> None:
    """When a cluster's worker starts, mark jobs whose previous worker died as interrupted."""
    from django.db import DatabaseError

    from jobs.actors import system_actor
    from jobs.services.recovery import jobs_mark_lapsed

    try:
        marked = jobs_mark_lapsed(actor=system_actor("cluster start"))
    except DatabaseError:
        logger.exception("Could not check for interrupted jobs at worker start.")
        return
    if marked:
        logger.warning("Marked %d job(s) interrupted at worker start.", len(marked))
