"""Database tables: rows read in key order, tracking numbers written by one UPDATE per flush."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from datasources.adapters.base import (
    SourceAdapter,
    SourceRow,
    WriteBack,
    index_updates,
    missing_rows_error,
)
from datasources.adapters.db_schema import (
    INTEGER_TYPES,
    TEXT_TYPES,
    Column,
    TableSchema,
    load_schema,
)
from datasources.adapters.rows import RowBuilder
from datasources.errors import SourceError
from datasources.models import SourceKind
from datasources.values import value_text

FETCH_SIZE = 2000
PARAMS_PER_ROW = 5  # two CASE arms of two parameters each, and the IN list


class TableAdapter(SourceAdapter):
    """A table in any configured DATABASES alias, with a unique key column."""

    kind = SourceKind.DATABASE

    @property
    def alias(self) -> str:
        """Return the DATABASES alias."""
        return self.source.db_alias or "default"

    @property
    def connection(self) -> BaseDatabaseWrapper:
        """Return the connection of the alias."""
        return connections[self.alias]

    @cached_property
    def schema(self) -> TableSchema:
        """Return the table's real names, from the database's introspection."""
        return load_schema(self.alias, self.source.table_name, self.display)

    @cached_property
    def key(self) -> Column:
        """Return the key column: the configured one, else the table's primary key."""
        wanted = self.source.key_column.strip() or self.schema.primary_key
        column = self.schema.column(wanted) if wanted else None
        if column is None:
            missing = f'no key column "{wanted}"' if wanted else "no primary key"
            raise SourceError(
                "key_column_missing",
                f'The table "{self.display}" has {missing}; name a key column on the data '
                "source: a column with a unique value in every row.",
                source=self.display,
            )
        return column

    def key_identity(self, key_column: str) -> str:
        """Return what keys made under ``key_column`` name: blank is the primary key."""
        return super().key_identity(key_column.strip() or self.schema.primary_key or "")

    def key_label(self, key_column: str) -> str:
        """Return how a message names the key column: blank is the primary key."""
        if key_column.strip():
            return super().key_label(key_column)
        return f'the primary key "{self.schema.primary_key}"'

    def _quoted(self, column: Column) -> str:
        return self.connection.ops.quote_name(column.name)

    def _select(self) -> str:
        names = ", ".join(self._quoted(column) for column in self.schema.columns)
        table = self.connection.ops.quote_name(self.schema.table)
        # Every name comes from the database's own introspection and is quoted.
        return f"SELECT {names} FROM {table}"  # noqa: S608

    def _builder(self) -> RowBuilder:
        return RowBuilder(
            self.headers(), source=self.source, display=self.display, key_column=self.key.name
        )

    def headers(self) -> list[str]:
        """Return the column names in table order."""
        return [column.name for column in self.schema.columns]

    def iter_rows(self) -> Iterator[SourceRow]:
        """Yield every row in key order, fetched in batches from a server-side cursor."""
        builder = self._builder()
        key_at = self.schema.columns.index(self.key)
        sql = f"{self._select()} ORDER BY {self._quoted(self.key)}"
        number = 0
        try:
            with self.connection.chunked_cursor() as cursor:
                cursor.execute(sql)
                while batch := cursor.fetchmany(FETCH_SIZE):
                    for values in batch:
                        number += 1
                        row = builder.build(number, [value_text(value) for value in values])
                        if row is not None:
                            self._check_key_found_again(values[key_at], row.key, number)
                            yield row
            self._refuse_keys_the_database_merges(len(builder.seen))
        except DatabaseError as error:
            raise self._failed("read", error) from error

    def _refuse_keys_the_database_merges(self, keys_read: int) -> None:
        """Refuse keys that differ as text but that the database takes for one another.

        A key column whose collation ignores case holds "K-1" and "k-1" as two
        keys, but the write-back's ``WHERE key IN (...)`` would find both rows
        for either, writing one order's tracking number into the other's row.
        """
        key = self._quoted(self.key)
        table = self.connection.ops.quote_name(self.schema.table)
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(DISTINCT {key}) FROM {table}")  # noqa: S608
            (distinct,) = cursor.fetchone()
            if int(distinct) >= keys_read:
                return
            cursor.execute(
                f"SELECT {key} FROM {table} GROUP BY {key} HAVING COUNT(*) > 1"  # noqa: S608
            )
            merged = [value_text(value) for (value,) in cursor.fetchmany(3)]
        raise SourceError(
            "duplicate_key",
            f'The key column "{self.key.name}" of "{self.display}" holds keys that the '
            "database takes for one another (its collation ignores case, say), such as "
            f"{', '.join(f'"{value}"' for value in merged)}: each order's tracking number "
            "could not be written into its own row. Make the keys differ in more than case, "
            "or choose another key column.",
            source=self.display,
        )

    def current_checksums(self, keys: Collection[str]) -> dict[str, str]:
        """Return the checksums of ``keys`` with one SELECT ... WHERE key IN (...) per chunk."""
        typed = [value for value in (self._typed_key(key) for key in keys) if value is not None]
        builder = self._builder()
        checksums: dict[str, str] = {}
        try:
            with self.connection.cursor() as cursor:
                for chunk in self._chunks(typed, per_row=1):
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(
                        f"{self._select()} WHERE {self._quoted(self.key)} IN ({marks})", chunk
                    )
                    for values in cursor.fetchall():
                        row = builder.build(0, [value_text(value) for value in values])
                        if row is not None:
                            checksums[row.key] = row.checksum
        except DatabaseError as error:
            raise self._failed("read", error) from error
        return checksums

    def check_write_back(self) -> None:
        """Refuse a table without usable tracking and ship-time columns."""
        self._writeback_columns()

    def _writeback_columns(self) -> tuple[Column, Column]:
        found = []
        for name, kinds, what in (
            (self.source.tracking_column, TEXT_TYPES, "a text"),
            (self.source.shipped_at_column, TEXT_TYPES | {"DateTimeField"}, "a date-time or text"),
        ):
            column = self.schema.column(name)
            if column is None or column.field_type not in kinds:
                problem = "has no column" if column is None else f"needs {what} column as"
                raise SourceError(
                    "writeback_column_missing",
                    f'The table "{self.display}" {problem} "{name}" for write-back; '
                    "add it or change the data source's write-back columns.",
                    source=self.display,
                )
            found.append(column)
        return found[0], found[1]

    def write_back(self, updates: Sequence[WriteBack]) -> None:
        """Write every update with one UPDATE statement inside ``transaction.atomic(using=alias)``.

        Inside a transaction on the same alias the statement joins it (as a
        savepoint), so the caller commits it together with its own changes.
        """
        if not updates:
            return
        by_key = index_updates(updates, self.display)
        tracking, shipped_at = self._writeback_columns()
        typed = {key: self._typed_key(key) for key in by_key}
        missing = {key for key, value in typed.items() if value is None}
        if missing:
            raise missing_rows_error(self.display, missing)
        try:
            with transaction.atomic(using=self.alias), self.connection.cursor() as cursor:
                pairs = [(typed[key], update) for key, update in by_key.items()]
                for chunk in self._chunks(pairs, per_row=PARAMS_PER_ROW):
                    sql, params = self._update_sql(chunk, tracking, shipped_at)
                    cursor.execute(sql, params)
                    if cursor.rowcount != len(chunk):
                        self._explain_count(cursor, chunk, cursor.rowcount)
        except DatabaseError as error:
            raise self._failed("write", error) from error

    def _update_sql(
        self, chunk: Sequence[tuple[Any, WriteBack]], tracking: Column, shipped_at: Column
    ) -> tuple[str, list[Any]]:
        key = self._quoted(self.key)
        table = self.connection.ops.quote_name(self.schema.table)
        arms = " ".join(["WHEN %s THEN %s"] * len(chunk))
        marks = ", ".join(["%s"] * len(chunk))
        assignments = (
            f"{self._quoted(tracking)} = CASE {key} {arms} END, "
            f"{self._quoted(shipped_at)} = CASE {key} {arms} END"
        )
        # Names come from introspection and are quoted; every value is a parameter.
        sql = f"UPDATE {table} SET {assignments} WHERE {key} IN ({marks})"  # noqa: S608
        params: list[Any] = []
        for value, update in chunk:
            params += [value, update.tracking_number]
        for value, update in chunk:
            params += [value, self._shipped_at_value(shipped_at, update)]
        params += [value for value, _ in chunk]
        return sql, params

    def _shipped_at_value(self, column: Column, update: WriteBack) -> Any:
        if column.field_type == "DateTimeField":
            return self.connection.ops.adapt_datetimefield_value(update.shipped_at)
        return update.shipped_at_text

    def _explain_count(
        self, cursor: Any, chunk: Sequence[tuple[Any, WriteBack]], count: int
    ) -> None:
        """Raise the error for an UPDATE that matched more or fewer rows than it names."""
        if count > len(chunk):
            raise SourceError(
                "duplicate_key",
                f'The key column "{self.key.name}" of "{self.display}" is not unique; '
                "nothing was written.",
                source=self.display,
            )
        marks = ", ".join(["%s"] * len(chunk))
        key = self._quoted(self.key)
        table = self.connection.ops.quote_name(self.schema.table)
        query = f"SELECT {key} FROM {table} WHERE {key} IN ({marks})"  # noqa: S608
        cursor.execute(query, [value for value, _ in chunk])
        present = {value_text(row[0]) for row in cursor.fetchall()}
        raise missing_rows_error(self.display, {u.key for _, u in chunk} - present)

    def _check_key_found_again(self, stored: Any, key: str, number: int) -> None:
        """Refuse a key whose text does not lead back to its row (ShipOps keeps keys as text).

        Every later look-up (the check before shipping, the write-back) finds
        the row by ``_typed_key(key)``: spaces around a text key, a float or a
        date would not match the stored value, and the row would be reported
        as gone when it ships or is written back.
        """
        typed = self._typed_key(key)
        if type(typed) is type(stored) and typed == stored:
            return
        if typed is not None and self._rows_with_key(typed) == 1:
            return  # the database matches it all the same (PostgreSQL's padded char(n))
        raise SourceError(
            "key_not_found_again",
            f'Row {number} of "{self.display}" has {stored!r} in the key column '
            f'"{self.key.name}"; ShipOps keeps keys as text ("{key}") and could not find that '
            "row again by it (a key needs plain text without spaces around it, or a whole "
            "number). Fix that value or choose another key column.",
            source=self.display,
            details={"row": number},
        )

    def _rows_with_key(self, typed: Any) -> int:
        table = self.connection.ops.quote_name(self.schema.table)
        query = f"SELECT COUNT(*) FROM {table} WHERE {self._quoted(self.key)} = %s"  # noqa: S608
        with self.connection.cursor() as cursor:
            cursor.execute(query, [typed])
            (count,) = cursor.fetchone()
        return int(count)

    def _typed_key(self, key: str) -> Any:
        """Return ``key`` as the key column's type, or None when it cannot be one."""
        field_type = self.key.field_type
        try:
            if field_type in INTEGER_TYPES:
                return int(key)
            if field_type == "DecimalField":
                return Decimal(key)
            if field_type == "UUIDField":
                return uuid.UUID(key)
        except (ValueError, InvalidOperation):
            return None
        return key

    def _chunks(self, items: Sequence[Any], *, per_row: int) -> Iterator[Sequence[Any]]:
        limit = self.connection.features.max_query_params
        size = max(1, limit // per_row) if limit else max(1, len(items))
        for start in range(0, len(items), size):
            yield items[start : start + size]

    def _failed(self, action: str, error: DatabaseError) -> SourceError:
        done = {"read": "read", "write": "written"}[action]
        return SourceError(
            f"database_{action}_failed",
            f'The table "{self.display}" could not be {done}: {error}'.rstrip(". ") + ".",
            source=self.display,
        )
