"""A table as the database itself describes it: names are taken from introspection only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.introspection import FieldInfo

from datasources.errors import SourceError

INTEGER_TYPES = {
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
    "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}  # fmt: skip
TEXT_TYPES = {"CharField", "TextField", ""}
INTERNAL_TABLES = {"django_migrations"}


@dataclass(frozen=True)
class Column:
    """A column's real name and the Django field type introspection maps it to ("" if none)."""

    name: str
    field_type: str


@dataclass(frozen=True)
class TableSchema:
    """The real names of a table and its columns, and its primary key."""

    alias: str
    table: str
    columns: tuple[Column, ...]
    primary_key: str | None

    def column(self, wanted: str) -> Column | None:
        """Return the column named ``wanted``, exactly or else ignoring case."""
        for column in self.columns:
            if column.name == wanted:
                return column
        matches = [c for c in self.columns if c.name.casefold() == wanted.casefold()]
        return matches[0] if len(matches) == 1 else None


def _unavailable(alias: str, display: str, error: Exception) -> SourceError:
    return SourceError(
        "database_unavailable",
        f'The database "{alias}" cannot be read for "{display}": {error}'.rstrip(". ") + ".",
        source=display,
    )


def _missing_table(
    cursor: Any, connection: BaseDatabaseWrapper, alias: str, table_name: str, display: str
) -> SourceError:
    views = connection.introspection.table_names(cursor, include_views=True)
    if _match(views, table_name) is not None:
        message = (
            f'"{table_name}" in the database "{alias}" is a view: ShipOps writes tracking '
            "numbers back into the rows it reads, so it reads tables only."
        )
    else:
        message = f'The database "{alias}" has no table "{table_name}".'
    return SourceError("table_missing", message, source=display)


def load_schema(alias: str, table_name: str, display: str) -> TableSchema:
    """Return the table's schema, refusing unknown aliases, tables and ShipOps's own tables."""
    if alias not in connections:
        raise SourceError(
            "database_alias_missing",
            f'No database "{alias}" is configured in DATABASES for "{display}".',
            source=display,
        )
    connection = connections[alias]
    introspection = connection.introspection
    try:
        with connection.cursor() as cursor:
            tables = introspection.table_names(cursor)
            table = _match(tables, table_name)
            if table is None:
                raise _missing_table(cursor, connection, alias, table_name, display)
            internal = set(introspection.django_table_names()) | INTERNAL_TABLES
            if table in internal:
                raise SourceError(
                    "table_internal",
                    f'"{table}" is one of ShipOps\'s own tables and cannot be a data source.',
                    source=display,
                )
            description = introspection.get_table_description(cursor, table)
            primary_key = introspection.get_primary_key_column(cursor, table)
    except DatabaseError as error:
        raise _unavailable(alias, display, error) from error
    columns = tuple(Column(info.name, _field_type(connection, info)) for info in description)
    return TableSchema(alias, table, columns, primary_key)


def _match(names: list[str], wanted: str) -> str | None:
    if wanted in names:
        return wanted
    matches = [name for name in names if name.casefold() == wanted.casefold()]
    return matches[0] if len(matches) == 1 else None


def _field_type(connection: BaseDatabaseWrapper, info: FieldInfo) -> str:
    try:
        # django-stubs says str, but PostgreSQL's type codes are integer OIDs.
        return str(connection.introspection.get_field_type(info.type_code, info))  # type: ignore[arg-type]
    except KeyError:
        return ""
