"""The formula language of issue 19 (``roadmap.planning.formula``): what it reads, what it
refuses and where, its bounds, and that Python and SQL agree on every formula (a property test
over generated formulas and inputs, on the configured database)."""

import math

import pytest
from django.db import connection, transaction
from django.db.models import FloatField, Value
from django.db.models.functions import Cast
from django.db.models.sql import Query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roadmap.planning.formula import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    MAX_VARIABLES,
    FormulaError,
    compile_sql,
    evaluate,
    parse,
)

INPUTS = ("reach", "impact", "confidence", "effort", "at_stake", "customers")
ISSUE = "reach * impact * confidence / 100 / effort * (1 + at_stake / 100000)"


def _sql_value(term, values):
    """The compiled formula run as ``SELECT <expression>``, its names given as parameters."""
    # Typed as the columns they stand for (a bare NULL has no type in PostgreSQL).
    expression = compile_sql(
        term, lambda name: Cast(Value(values.get(name)), output_field=FloatField())
    ).resolve_expression(Query(None))
    compiler = Query(None).get_compiler(connection=connection)
    sql, params = expression.as_sql(compiler, connection)
    # A savepoint each: an error is the formula's, not the test transaction's.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        found = cursor.fetchone()[0]
    return None if found is None else float(found)


def test_the_issues_formula_reads_as_a_pm_writes_it():
    term = parse(ISSUE, INPUTS)
    values = {
        "reach": 1000,
        "impact": 2,
        "confidence": 80,
        "effort": 4,
        "at_stake": 50000,
    }

    assert evaluate(term, values) == pytest.approx(1000 * 2 * 0.8 / 4 * 1.5)
    assert set(term.variables()) == {"reach", "impact", "confidence", "effort", "at_stake"}
    assert evaluate(term, {**values, "effort": 0}) is None  # no score, as a division by zero
    assert evaluate(term, {**values, "at_stake": None}) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(2.345, 2)", 2.35),
        ("log(1)", 0),
        ("log(0)", None),
        ("log(-1)", None),
        ("10 - 4 - 3", 3),
        ("-2 * -3", 6),
        ("8 / 4 / 2", 1),
        ("if(1 < 2, 10, 20)", 10),
        ("if(1 > 2 or 3 = 3, 10, 20)", 10),
        ("if(not (1 < 2) and 2 != 2, 10, 20)", 20),
        ("if(2 >= 2 and 2 <= 2, 1, 0)", 1),
        ("1 / 0", None),
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("# a note\n1 + # and another\n 2", 3),
    ],
)
def test_each_part_of_the_language(source, expected):
    value = evaluate(parse(source, INPUTS), {})
    assert value == (None if expected is None else pytest.approx(expected))


def test_missing_inputs_and_unknown_conditions_give_no_score():
    values = {"reach": None, "impact": 0}
    assert evaluate(parse("min(reach, 1)", INPUTS), values) is None
    assert evaluate(parse("if(reach > 1, 1, 2)", INPUTS), values) is None
    # Three-valued: false and unknown is false; true or unknown is true.
    assert evaluate(parse("if(impact > 1 and reach > 1, 1, 2)", INPUTS), values) == 2
    assert evaluate(parse("if(impact < 1 or reach > 1, 1, 2)", INPUTS), values) == 1


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        ("", "The formula is empty", 1, 1),
        ("reach *", "The formula ends where a number or a name was expected", 1, 8),
        ("reach * revenu", "Unknown name “revenu”", 1, 9),
        ("reach +\n  effrt", "Unknown name “effrt”: did you mean “effort”?", 2, 3),
        ("(reach + 1", "Expected “)”, found the end", 1, 11),
        ("reach $ 2", "“$” is not part of a formula", 1, 7),
        ("min(reach)", "min takes two numbers or more", 1, 10),
        ("log(1, 2)", "log takes one number", 1, 9),
        ("round(reach, 1.5)", "round's decimals are a whole number", 1, 17),
        ("round(reach, 9)", "round keeps 0 to 6 decimals", 1, 15),
        ("if(reach, 1, 2)", "Expected a comparison", 1, 9),
        ("reach > 2", "A comparison is not a score", 1, 7),
        ("max 2", "max needs its arguments in brackets", 1, 5),
        ("reach and effort", "A comparison is not a score", 1, 7),
        ("reach 2", "Expected the end, found “2”", 1, 7),
        ("1e5", "Expected the end, found “e5”", 1, 2),
        ("2000000000000.5", "Numbers go up to 1,000,000,000,000", 1, 1),
    ],
)
def test_errors_say_what_and_where(source, message, line, column):
    with pytest.raises(FormulaError) as refused:
        parse(source, INPUTS)

    assert message in refused.value.message
    assert (refused.value.line, refused.value.column) == (line, column)


def test_bounds_are_errors_not_crashes():
    with pytest.raises(FormulaError, match=f"at most {MAX_LENGTH} characters"):
        parse("1+" * 1001 + "1", INPUTS)
    with pytest.raises(FormulaError, match=f"nests at most {MAX_DEPTH} deep"):
        parse("(" * 40 + "1" + ")" * 40, INPUTS)
    with pytest.raises(FormulaError, match=f"nests at most {MAX_DEPTH} deep"):
        parse("-" * 40 + "1", INPUTS)
    with pytest.raises(FormulaError, match=f"at most {MAX_NODES} parts"):
        parse("+".join(["reach"] * 150), INPUTS)
    many = [f"x{n}" for n in range(60)]
    with pytest.raises(FormulaError, match=f"at most {MAX_VARIABLES} names"):
        parse("+".join(many), many)


# --- Python and SQL agree ------------------------------------------------------------------------

NAMES = ("a", "b", "c")
numbers = st.sampled_from(["0", "1", "2", "0.5", "3", "10", "100"])
names = st.sampled_from(NAMES)


def _formulas():
    def extend(children):
        binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        calls = st.one_of(
            st.tuples(
                st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=3)
            ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            children.map(lambda c: f"log({c})"),
            st.tuples(children, st.integers(0, 3)).map(lambda t: f"round({t[0]}, {t[1]})"),
            children.map(lambda c: f"-{c}"),
        )
        comparison = st.tuples(
            children, st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), children
        ).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
        condition = st.one_of(
            comparison,
            st.tuples(comparison, st.sampled_from(["and", "or"]), comparison).map(
                lambda t: f"{t[0]} {t[1]} {t[2]}"
            ),
            comparison.map(lambda c: f"not ({c})"),
        )
        branch = st.tuples(condition, children, children).map(
            lambda t: f"if({t[0]}, {t[1]}, {t[2]})"
        )
        return st.one_of(binary, calls, branch)

    return st.recursive(st.one_of(numbers, names), extend, max_leaves=8)


values = st.fixed_dictionaries(
    {
        name: st.one_of(
            st.none(),
            st.just(0.0),
            st.floats(min_value=-1000, max_value=1000, allow_nan=False, width=32),
        )
        for name in NAMES
    }
)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=_formulas(), inputs=values)
def test_python_and_sql_agree_on_every_formula(source, inputs):
    term = parse(source, NAMES)

    in_python = evaluate(term, inputs)
    in_sql = _sql_value(term, inputs)

    if in_python is None or in_sql is None:
        assert in_python is None and in_sql is None, (source, inputs, in_python, in_sql)
    else:
        assert math.isclose(in_python, in_sql, rel_tol=1e-9, abs_tol=1e-9), (
            source,
            inputs,
            in_python,
            in_sql,
        )
