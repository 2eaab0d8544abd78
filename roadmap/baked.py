"""Baked queries: a query the ORM builds and compiles once, run again with new values.

Django builds and compiles a queryset's SQL anew on every request. For the API's hottest reads
(the token of every request, the priorities' first page) that took longer than running them:
about a millisecond each, against a few tenths for the statement itself. A baked query is built
once per process from a function of placeholder values (SQLAlchemy's "baked queries" and its
compiled cache are the same idea); its compiled SQL is kept with the positions of those values
among its parameters, and each run puts the new values there, executes the statement and reads
its rows through the fields' own converters, as ``QuerySet.values()`` does. The SQL is always the
ORM's: a change of the models reaches it on the next start.

The function takes only keyword arguments annotated ``int``, ``str`` or ``datetime.date``, each
used once as a plain value (an exact or range lookup, not one that rewrites it like
``icontains``), and returns a ``values()`` queryset; a value it transforms is refused when the
query is baked, not answered wrongly.
"""

from __future__ import annotations

import datetime
import inspect
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# A placeholder of each kind that no real query passes: found once among the parameters.
_serial = itertools.count(1)


def _placeholder(kind: Any) -> Any:
    n = next(_serial)
    if kind is int or kind == "int":
        # Within every integer column's range (Django answers a lookup past a column's range
        # without asking the database): a number no query of ours passes as such.
        return 2_147_000_000 + n
    if kind is str or kind == "str":
        return f"\x1fbaked placeholder {n}\x1f"
    if kind is datetime.date or kind in ("date", "datetime.date"):
        return datetime.date(1000, 1, 1) + datetime.timedelta(days=n)
    raise TypeError(f"A baked query's values are int, str or date, not {kind!r}.")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    positions: dict[str, int]
    names: tuple[str, ...]
    expressions: tuple


class Baked:
    """``Baked(build)``: ``rows(**values)`` is ``list(build(**values))`` without the building
    and compiling (a list of dicts, one per row, by the names ``values()`` gives)."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self.build = build
        self.kinds = {
            name: parameter.annotation
            for name, parameter in inspect.signature(build).parameters.items()
        }
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, using: str = "default") -> _Compiled:
        found = self._compiled.get(using)
        if found is None:
            with self._lock:  # one thread compiles; the others find its result
                found = self._compiled.get(using)
                if found is None:
                    found = self._compiled[using] = self._compile(using)
        return found

    def _compile(self, using: str) -> _Compiled:
        placeholders = {name: _placeholder(kind) for name, kind in self.kinds.items()}
        queryset = self.build(**placeholders)
        query = queryset.query
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        positions: dict[str, int] = {}
        for name, value in placeholders.items():
            found = [i for i, param in enumerate(params) if _same(param, value)]
            if len(found) != 1:
                raise ValueError(
                    f"{self.build.__qualname__}: {name} is found {len(found)} times among the "
                    "compiled parameters (a value must be used once, as given)."
                )
            positions[name] = found[0]
        # As ``ValuesIterable`` names a row's values.
        names = tuple(
            query.selected or (*query.extra_select, *query.values_select, *query.annotation_select)
        )
        expressions = tuple(column[0] for column in compiler.select[: compiler.col_count])
        if len(names) != len(expressions):
            raise ValueError(f"{self.build.__qualname__}: bake a values() queryset.")
        return _Compiled(sql, tuple(params), positions, names, expressions)

    def rows(self, using: str = "default", **values: Any) -> list[dict[str, Any]]:
        compiled = self.compiled(using)
        params = list(compiled.params)
        for name, position in compiled.positions.items():
            value = values[name]
            if isinstance(value, datetime.date) and isinstance(params[position], str):
                value = value.isoformat()  # as the placeholder reached the parameters
            params[position] = value
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        # The fields' converters, with this thread's connection (``SQLCompiler.get_converters``).
        converters = []
        for i, expression in enumerate(compiled.expressions):
            found = connection.ops.get_db_converters(expression) + expression.get_db_converters(
                connection
            )
            if found:
                converters.append((i, found, expression))
        result = []
        for row in rows:
            if converters:
                row = list(row)
                for i, functions, expression in converters:
                    for function in functions:
                        row[i] = function(row[i], expression, connection)
            result.append(dict(zip(compiled.names, row, strict=True)))
        return result


def columns(model: type[Model], prefix: str = "") -> list[str]:
    """The names a baked ``values()`` reads for a whole row of ``model`` (its concrete fields'
    columns), each after ``prefix`` (``"user__"`` for a related row)."""
    return [f"{prefix}{field.attname}" for field in model._meta.concrete_fields]


def instance(model: type[M], row: dict[str, Any], prefix: str = "", using: str = "default") -> M:
    """The ``model`` instance of a baked row read with ``columns(model, prefix)``, as the ORM
    would have made it (``Model.from_db``: not new, no save needed to be read)."""
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(using, names, [row[f"{prefix}{name}"] for name in names])


def _same(param: Any, value: Any) -> bool:
    # A date may reach the parameters as its ISO text (SQLite's adaptation).
    return (
        type(param) is type(value)
        and param == value
        or (isinstance(value, datetime.date) and param == value.isoformat())
    )
