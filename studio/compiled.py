"""Querysets compiled to SQL once per process, then run with new parameter values.

Compiling a queryset (`as_sql`) costs about as much CPU as the rest of a small API request; the
hottest API reads (a job poll, a library page) run the same SQL with different values. A
`CompiledQuery` builds its queryset once per database alias, with `Param` markers where the values
go, and afterwards only prepares the values, executes the SQL through the connection's cursor
(Django's wrapper, so `%s` works on SQLite too and queries are counted in tests) and applies the
columns' converters (UUIDs, datetimes and JSON on SQLite, JSON on PostgreSQL).

On PostgreSQL (unless PREPARED_QUERIES is off) each query is also a prepared statement of the
connection: `PREPARE` once per connection, then `EXECUTE name(values)`, so the server plans it
once instead of on every request (a job poll's join and refund subquery: 0.31 → 0.05 ms of
server time here). Statements are per session, so this needs a connection of our own (Django's,
or a pooler in session mode); with a transaction-mode pooler turn PREPARED_QUERIES off.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression, Field, IntegerField, QuerySet


class Param(Expression):
    """A named placeholder: compiles to `%s` with itself as the parameter, replaced at run time
    by the value prepared for the database by `output_field` (e.g. a UUID's hex on SQLite)."""

    def __init__(self, name: str, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.name = name

    def __repr__(self) -> str:
        return f"Param({self.name!r})"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [self]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]  # constants, and Param markers to fill in
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]
    name: str = ""  # of its prepared statement (PostgreSQL), "" when not prepared
    prepare_sql: str = ""
    execute_sql: str = ""


# The statements prepared on each open PostgreSQL connection (psycopg's), by name. A statement
# lives as long as its session, whatever happens to transactions; a new connection starts empty.
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
# Queries the server would not prepare (a parameter whose type it cannot infer): run plainly.
_unpreparable: set[str] = set()
_PLACEHOLDER = re.compile(r"%%|%s")


def _as_statement(sql: str, count: int) -> tuple[str, str, str]:
    """PREPARE and EXECUTE texts for SQL written with %s placeholders (and %% for %)."""
    numbers = iter(range(1, count + 1))
    body = _PLACEHOLDER.sub(lambda m: "%" if m[0] == "%%" else f"${next(numbers)}", sql)
    name = "studio_" + hashlib.sha256(sql.encode()).hexdigest()[:24]
    args = ", ".join(["%s"] * count)
    return (
        name,
        f"PREPARE {name} AS {body}",
        f"EXECUTE {name} ({args})" if count else f"EXECUTE {name}",
    )


class CompiledQuery:
    """`build()` returns a `values_list()` queryset (without slicing) that uses `Param` markers.

    `rows(**values)` returns its rows as the queryset would; `paged=True` appends
    `LIMIT %s OFFSET %s` (values `limit`, `offset`); `count=True` returns `SELECT COUNT(*)` of it,
    and with `capped=True` counts at most `cap` rows (value `cap`), so a large match stops early.
    """

    def __init__(
        self,
        build: Callable[[], QuerySet[Any, Any]],
        *,
        paged: bool = False,
        count: bool = False,
        capped: bool = False,
        using: str = DEFAULT_DB_ALIAS,
    ) -> None:
        self.build = build
        self.paged = paged
        self.count = count or capped
        self.capped = capped
        self.using = using
        self._compiled: dict[str, _Compiled] = {}  # by database vendor

    def _compile(self, connection: Any) -> _Compiled:
        queryset = self.build()
        if self.count:
            queryset = queryset.order_by()
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        converters: dict[int, Any] = {}
        if self.count:
            # The inner SQL is Django's own compilation, values stay parameters.
            limit = " LIMIT %s" if self.capped else ""
            sql = f"SELECT COUNT(*) FROM ({sql}{limit}) subquery"  # noqa: S608
            if self.capped:
                params = (*params, Param("cap", IntegerField()))
        else:
            converters = compiler.get_converters([col for col, _, _ in compiler.select])
        if self.paged:
            sql += " LIMIT %s OFFSET %s"
            params = (*params, Param("limit", IntegerField()), Param("offset", IntegerField()))
        compiled = _Compiled(
            sql,
            tuple(params),
            tuple((i, tuple(convs), expr) for i, (convs, expr) in converters.items()),
        )
        if connection.vendor == "postgresql":
            name, prepare_sql, execute_sql = _as_statement(sql, len(params))
            compiled = _Compiled(
                compiled.sql, compiled.params, compiled.converters, name, prepare_sql, execute_sql
            )
        return compiled

    def sql(self) -> str:
        connection = connections[self.using]
        return self._get(connection).sql

    def _get(self, connection: Any) -> _Compiled:
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = self._compile(connection)
        return compiled

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        connection = connections[self.using]
        compiled = self._get(connection)
        params = [
            _prepare(p, values[p.name], connection) if isinstance(p, Param) else p
            for p in compiled.params
        ]
        with connection.cursor() as cursor:
            if compiled.name and settings.PREPARED_QUERIES and _ready(connection, compiled):
                cursor.execute(compiled.execute_sql, params)
            else:
                cursor.execute(compiled.sql, params)
            rows: list[Any] = cursor.fetchall()
        if compiled.converters:
            rows = [_convert(row, compiled.converters, connection) for row in rows]
        return rows

    def value(self, **values: Any) -> Any:
        """The first column of the first row (e.g. the count), or None."""
        rows = self.rows(**values)
        return rows[0][0] if rows else None


def _ready(connection: Any, compiled: _Compiled) -> bool:
    """Whether the statement is prepared on this connection (preparing it now if need be).

    PREPARE goes straight to psycopg's connection: it is part of the connection's setup, once
    per session, not of the request (Django's query log and the tests' query budgets count the
    EXECUTE that each request sends). Inside a transaction it runs in a savepoint of its own, so
    that a refusal cannot abort the caller's transaction."""
    if compiled.name in _unpreparable:
        return False
    raw = connection.connection
    names = _prepared.setdefault(raw, set())
    if compiled.name in names:
        return True
    nested = connection.in_atomic_block
    with connection.wrap_database_errors:
        if nested:
            raw.execute("SAVEPOINT studio_prepare")
        try:
            raw.execute(compiled.prepare_sql)
        except Exception:
            if nested:
                raw.execute("ROLLBACK TO SAVEPOINT studio_prepare")
            _unpreparable.add(compiled.name)
            return False
        finally:
            if nested:
                raw.execute("RELEASE SAVEPOINT studio_prepare")
    names.add(compiled.name)
    return True


def forget_prepared() -> None:
    """Forget which statements each connection holds (after something dropped them all, e.g.
    DEALLOCATE ALL or DISCARD ALL): they are prepared again on next use."""
    _prepared.clear()


def _prepare(param: Param, value: Any, connection: Any) -> Any:
    return param.output_field.get_db_prep_value(value, connection, prepared=False)


def _convert(row: tuple[Any, ...], converters: Any, connection: Any) -> tuple[Any, ...]:
    values = list(row)
    for i, convs, expression in converters:
        value = values[i]
        for conv in convs:
            value = conv(value, expression, connection)
        values[i] = value
    return tuple(values)
