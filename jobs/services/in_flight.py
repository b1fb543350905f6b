"""Phase A: a row goes in flight, fenced and audited, in plain SQL.

Phase A is the only database work between two ship calls (jobs.services.execution),
so its time is added to every row of a batch. Through the ORM it took 2.5 ms
(SQLite) and 4 to 5 ms (PostgreSQL) of each row: building its three
statements cost more than running them on SQLite (about 0.4 ms each against
0.06 ms), and on PostgreSQL each of its six round trips (BEGIN, three
statements, COMMIT...) costs 0.3 to 0.5 ms. Here the same statements that
``lease_renew`` and ``row_transition`` send are written from the models'
metadata, every value prepared by its model field (``get_db_prep_save``,
``pre_save``) as the ORM does; on PostgreSQL they go as one statement (data-
modifying CTEs), a transaction of its own: one round trip. Figures in
docs/performance.md.

Only the plain case is handled here: a row that is no longer pending goes to
``mark_in_flight_through_orm`` (``row_transition``, the one place that
retries a move or refuses it).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import CharField, Field, Model
from django.utils import timezone

from jobs.actors import Actor, actor_label, actor_user
from jobs.models import AuditEntry, Job, JobRow
from jobs.services.lease import LEASED_STATUSES, Lease, LeaseLost, lease_expiry, lease_renew
from jobs.services.transitions import row_transition
from jobs.states import RowStatus, check_row_transition

SHIP_STARTED = "ship_started"
Statement = tuple[str, list[Any]]


def row_mark_in_flight(*, row: JobRow, lease: Lease, actor: Actor, message: str) -> None:
    """Renew ``lease`` and move ``row`` to in flight with one more attempt, audited, at once.

    Committed when this returns (unless called inside a transaction); raises
    LeaseLost, writing nothing, if another worker holds the job now.
    """
    check_row_transition(row_label=str(row), current=row.status, target=RowStatus.IN_FLIGHT)
    changes = {
        "status": RowStatus.IN_FLIGHT,
        "attempts": row.attempts + 1,
        "updated_at": timezone.now(),
    }
    fenced = {"pk": lease.job_id, "fencing_token": lease.token, "status": LEASED_STATUSES}
    renew = _update(Job, {"lease_expires_at": lease_expiry()}, where=fenced)
    move = _update(JobRow, changes, where={"pk": row.pk, "status": (row.status,)})
    entry = AuditEntry(
        job_id=row.job_id,
        row=row,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        action=SHIP_STARTED,
        message=message,
        data={"from": row.status, "to": RowStatus.IN_FLIGHT},
    )
    at_once = connection.vendor == "postgresql"
    renewed, moved = (_in_one_statement if at_once else _one_by_one)(renew, move, entry)
    if not renewed:
        raise LeaseLost(lease.job_id)
    if moved:
        for name, value in changes.items():
            setattr(row, name, value)
        return
    # Changed since it was read: retried from where it is now, or refused.
    mark_in_flight_through_orm(row=row, lease=lease, actor=actor, message=message)


def mark_in_flight_through_orm(*, row: JobRow, lease: Lease, actor: Actor, message: str) -> None:
    """The same as ``row_mark_in_flight``, through the ORM: slower, and the reference.

    ``row_mark_in_flight`` hands it every row that is not plainly pending, and
    tests/jobs/test_in_flight.py checks that both leave the same rows behind.
    """
    with transaction.atomic():
        lease_renew(lease)
        row_transition(
            row=row,
            to_status=RowStatus.IN_FLIGHT,
            actor=actor,
            action=SHIP_STARTED,
            message=message,
            changes={"attempts": row.attempts + 1},
        )


def _one_by_one(renew: Statement, move: Statement, entry: AuditEntry) -> tuple[bool, bool]:
    """Run the three statements in one transaction; return whether the lease held, the row moved."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(*renew)
        if cursor.rowcount != 1:
            return False, False
        cursor.execute(*move)
        if cursor.rowcount != 1:
            return True, False
        cursor.execute(*_insert(entry))
    return True, True


def _in_one_statement(renew: Statement, move: Statement, entry: AuditEntry) -> tuple[bool, bool]:
    """Run them as one PostgreSQL statement: the row moves only if the lease held, and
    the entry is written only if the row moved."""
    insert, insert_params = _insert(entry, when="EXISTS (SELECT 1 FROM moved)")
    sql = (
        f"WITH renewed AS ({renew[0]} RETURNING 1), "  # noqa: S608 (our own statements)
        f"moved AS ({move[0]} AND EXISTS (SELECT 1 FROM renewed) RETURNING 1), "
        f"audited AS ({insert} RETURNING 1) "
        "SELECT (SELECT count(*) FROM renewed), (SELECT count(*) FROM moved)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*renew[1], *move[1], *insert_params])
        renewed, moved = cursor.fetchone()
    return renewed == 1, moved == 1


def _update(model: type[Model], values: dict[str, Any], *, where: dict[str, Any]) -> Statement:
    """UPDATE ``model``'s rows matching ``where`` (a tuple: any of)."""
    fields = [_field(model, name) for name in values]
    assignments = ", ".join(f"{_column(field)} = %s" for field in fields)
    params = [_prepared(field, value) for field, value in zip(fields, values.values(), strict=True)]
    conditions = []
    for name, wanted in where.items():
        field = _field(model, name)
        choices = wanted if isinstance(wanted, tuple) else (wanted,)
        conditions.append(f"{_column(field)} IN ({', '.join(['%s'] * len(choices))})")
        params += [_prepared(field, choice) for choice in choices]
    # Only names from the models and placeholders go into the text; values are parameters.
    table = connection.ops.quote_name(model._meta.db_table)
    return f"UPDATE {table} SET {assignments} WHERE {' AND '.join(conditions)}", params  # noqa: S608


def _insert(instance: Model, *, when: str = "") -> Statement:
    """INSERT ``instance`` (its automatic key left to the database), fields prepared as on save.

    ``when``: a condition, making it INSERT ... SELECT, each value cast to its
    column's type, which a SELECT list does not infer.
    """
    meta = instance._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    columns = ", ".join(_column(field) for field in fields)
    params = [_prepared(field, field.pre_save(instance, add=True)) for field in fields]
    table = connection.ops.quote_name(meta.db_table)
    if when:
        casts = ", ".join(f"CAST(%s AS {_cast_type(field)})" for field in fields)
        source = f"SELECT {casts} WHERE {when}"
    else:
        source = f"VALUES ({', '.join(['%s'] * len(fields))})"
    return f"INSERT INTO {table} ({columns}) {source}", params


def _cast_type(field: Field[Any, Any]) -> str:
    """The type to cast a value to for ``field``'s column: a text keeps its whole length,
    so that the column itself refuses one too long (a cast to varchar(n) cuts it)."""
    if isinstance(field, CharField):
        return str(connection.ops.cast_char_field_without_max_length)
    return str(field.db_type(connection))


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a column.")
    return field


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # a concrete field, as _field and concrete_fields ensure
    return connection.ops.quote_name(field.column)


def _prepared(field: Field[Any, Any], value: Any) -> Any:
    return field.get_db_prep_save(value, connection)
