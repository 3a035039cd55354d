"""Lean reads and writes for the few statements that run for every message or booking (issue 15).

``Model.objects.create``, ``QuerySet.update`` and ``get`` rebuild and recompile their statement
on every call: for a message, whose whole write is eight short statements, that was about half
of the CPU it cost. The statements here are made once per model and database vendor from the model's
own fields, and take their values the way Django's insert does (``pre_save`` for
``auto_now_add``, ``get_db_prep_save`` for each vendor's types), so the rows are the same.

What they skip: ``pre_save``/``post_save`` signals (as ``bulk_create`` does; no model written
here has a receiver) and ``Model.save`` overrides (none of them has one). Use them only for
such models, on paths a profile shows to be hot.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from django.db import connection
from django.db.models import AutoField, BigAutoField, Field, Model, SmallAutoField
from django.db.models.expressions import Col

M = TypeVar("M", bound=Model)

AUTO_FIELDS = (AutoField, BigAutoField, SmallAutoField)


def insert(instance: M) -> M:
    """Insert ``instance`` (a new row) in one statement and give it its primary key."""
    sql, fields = _insert_statement(type(instance), connection.vendor)
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:  # pragma: no cover (an INSERT … RETURNING always answers)
        raise RuntimeError(f"no key came back for the new {type(instance).__name__}")
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def get(model: type[M], pk: Any) -> M | None:
    """The row with key ``pk`` as ``model.objects.filter(pk=pk).first()`` gives it (every
    concrete field, through the converters the ORM applies), or None."""
    sql, fields, converters = _select_statement(model, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [model._meta.pk.get_db_prep_value(pk, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (column, steps) in zip(row, converters, strict=True):
        for step in steps:
            value = step(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def update(model: type[Model], pk: Any, **values: Any) -> int:
    """``UPDATE`` one row by primary key with ``values`` (field names, or ``…_id`` for a key);
    the number of rows changed."""
    names = tuple(sorted(values))
    sql, fields = _update_statement(model, names, connection.vendor)
    params = [
        field.get_db_prep_save(_stored(values[name]), connection)
        for name, field in zip(names, fields, strict=True)
    ]
    params.append(model._meta.pk.get_db_prep_value(pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


@functools.cache
def _insert_statement(model: type[Model], vendor: str) -> tuple[str, tuple[Field[Any, Any], ...]]:
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover
        raise RuntimeError("lean inserts need INSERT … RETURNING (SQLite 3.35, PostgreSQL)")
    meta = model._meta
    fields = tuple(
        field
        for field in meta.concrete_fields
        if not (field.primary_key and isinstance(field, AUTO_FIELDS))
    )
    columns = ", ".join(quoted(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table, key = quoted(meta.db_table), quoted(meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {key}", fields  # noqa: S608 (names only)


@functools.cache
def _select_statement(
    model: type[Model], vendor: str
) -> tuple[str, tuple[Field[Any, Any], ...], tuple[tuple[Col, list[Any]], ...]]:
    """The statement, the fields in its order, and for each column the converters the ORM's
    compiler would apply (the backend's, then the field's own ``from_db_value``). Taken from
    the first connection of this vendor: they read only settings, not the connection."""
    meta = model._meta
    fields = tuple(meta.concrete_fields)
    columns = []
    for field in fields:
        column = field.get_col(meta.db_table)
        steps = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        columns.append((column, steps))
    names = ", ".join(quoted(field.column) for field in fields)
    table, key = quoted(meta.db_table), quoted(meta.pk.column)
    sql = f"SELECT {names} FROM {table} WHERE {key} = %s"  # noqa: S608 (names only)
    return sql, fields, tuple(columns)


@functools.cache
def _update_statement(
    model: type[Model], names: tuple[str, ...], vendor: str
) -> tuple[str, tuple[Field[Any, Any], ...]]:
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in names)
    concrete = tuple(field for field in fields if isinstance(field, Field) and field.concrete)
    if len(concrete) != len(fields):
        raise LookupError(f"only a model's own columns can be updated: {names}")
    assignments = ", ".join(f"{quoted(field.column)} = %s" for field in concrete)
    table, key = quoted(meta.db_table), quoted(meta.pk.column)
    return f"UPDATE {table} SET {assignments} WHERE {key} = %s", concrete  # noqa: S608 (names only)


def _stored(value: Any) -> Any:
    """A related object is stored as its key, as ``QuerySet.update`` does."""
    return value.pk if isinstance(value, Model) else value


def column(model: type[Model], name: str) -> str:
    """The quoted column of ``model``'s field ``name``, for statements written out."""
    return quoted(getattr(model._meta.get_field(name), "column", None))


def quoted(name: str | None) -> str:
    """A table or column name quoted for the current database."""
    if not name:
        raise LookupError("a column without a name")
    return connection.ops.quote_name(name)
