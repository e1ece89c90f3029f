"""Every example of the function registry, run as a compiled mapping on both targets.

tests/runtime compares the helpers one by one; this runs each example
through the whole pipeline (checker, both generators, dispatch, body
building): the arguments reach the call through ``data.metadata`` read
with a dynamic index (typed "any" by the checker, so no example is refused
statically), and the result lands in ``properties.r``. Both targets must
give the registry's expected value, or both fail at the call's location.
"""
from __future__ import annotations

import copy
import math
from collections import defaultdict

from segmap.compiler.functions import FUNCTIONS, INTERNAL, OPERATORS, RAISES, UNARY_OPERATORS
from segmap.runtime.values import MISSING
from segmap.samples import sample_envelope
from tests.js.bridge import Case, assert_agree, py_outcome
from tests.support.json_equal import json_same

ARG = 'data[lower("METADATA")].a{}'


def _mapping(expr: str) -> str:
    quoted = "'" + expr.replace("'", "''") + "'"
    return ("version: 1\ndefaults:\n  userId: data.customer.customer_id\nevents:\n  payment.succeeded:\n"
            f"    - track: Example\n      properties:\n        r: {quoted}\n")


def _expression(spec, arity: int) -> str:
    a = [ARG.format(i) for i in range(arity)]
    if spec.role == "operator":
        return f"{a[0]} {spec.symbol} {a[1]}" if arity == 2 else f"{spec.symbol}{a[0]}"
    if spec.name == "truth":
        return f'if {a[0]} then "T" else "F"'
    if spec.name == "template_part":
        return f'f"<{{{a[0]}}}>"'
    if spec.name == "index":
        return f"{a[0]}[{a[1]}]"
    return f"{spec.name}({', '.join(a)})"


def _expected(spec, value):
    if value is RAISES or value is MISSING:
        return value
    if spec.name == "truth":
        return "T" if value else "F"
    if spec.name == "template_part":
        return f"<{value}>"
    return value


def _json(v) -> bool:
    """Can an envelope carry ``v``? (No NaN/infinity, no MISSING inside a list or object.)"""
    if type(v) is float:
        return math.isfinite(v)
    if type(v) is list:
        return all(x is not MISSING and _json(x) for x in v)
    if type(v) is dict:
        return all(x is not MISSING and _json(x) for x in v.values())
    return True


def _envelope(args) -> dict:
    env = copy.deepcopy(_BASE)
    env["data"]["metadata"] = {f"a{i}": v for i, v in enumerate(args) if v is not MISSING}
    return env


_BASE = sample_envelope("payment.succeeded")


def _groups():
    """(label, arity) -> [(spec, args, expected)], for every example a mapping can express."""
    specs = list(FUNCTIONS.values()) + list(OPERATORS.values()) + list(UNARY_OPERATORS.values())
    specs += [INTERNAL["truth"], INTERNAL["template_part"], INTERNAL["index"]]
    groups = defaultdict(list)
    for spec in specs:
        for args, expected in spec.examples:
            if all(_json(a) for a in args):
                label = spec.name if spec.role != "operator" else f"{spec.symbol} ({spec.name})"
                groups[(label, len(args))].append((spec, args, _expected(spec, expected)))
    return groups


def test_every_registry_example_on_both_targets(node_bridge):
    cases, expectations = [], []
    for (label, arity), examples in _groups().items():
        spec = examples[0][0]
        examples = [(args, expected) for _, args, expected in examples]
        case = Case(f"{label}/{arity}", _mapping(_expression(spec, arity)), "example.yaml").build()
        cases.append(case)
        expectations.append((case, examples))
    envs = {c.name: [_envelope(args) for args, _ in ex] for c, ex in expectations}
    assert_agree(node_bridge, cases, lambda c: envs[c.name], messages=False)
    wrong = []
    for case, examples in expectations:
        for (args, expected), env in zip(examples, envs[case.name]):
            kind, value = py_outcome(case.compiled, env)[:2]
            if expected is RAISES:
                ok = kind == "err"
            else:
                props = value["payload"]["properties"] if kind == "ok" else None
                ok = kind == "ok" and (("r" not in props) if expected is MISSING else
                                       ("r" in props and json_same(props["r"], expected)))
            if not ok:
                wrong.append((case.name, args, expected, kind, value))
    assert not wrong, f"{len(wrong)} examples give another result than the registry says; first: {wrong[0]!r}"
    assert len(cases) >= len(FUNCTIONS) + len(OPERATORS) + len(UNARY_OPERATORS)


def test_every_lambda_function_example_on_both_targets(node_bridge):
    """map() and filter() have no run-time helper (the generators emit the loop): their
    registry examples are mapping expressions, compiled and run on both targets."""
    from segmap.compiler.functions import LAMBDA_FUNCTIONS
    from segmap.compiler.api import check_source

    cases, expected = [], {}
    for spec in LAMBDA_FUNCTIONS.values():
        for i, (text, value) in enumerate(spec.examples):
            source = _mapping(text)
            problems = [d for d in check_source(source, "example.yaml").diagnostics if d.is_error]
            assert not problems, (text, problems)
            case = Case(f"{spec.name}/{i}", source, "example.yaml").build()
            cases.append(case)
            expected[case.name] = (text, value)
    assert_agree(node_bridge, cases, lambda c: [copy.deepcopy(_BASE)], messages=False)
    for case in cases:
        text, value = expected[case.name]
        kind, out = py_outcome(case.compiled, _BASE)[:2]
        assert kind == "ok", (text, out)
        props = out["payload"]["properties"]
        assert json_same(props["r"], value), f"{text} gave {props['r']!r}, the registry says {value!r}"
