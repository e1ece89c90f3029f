"""The registry's executable examples, on both targets, and its consistency."""
from __future__ import annotations

import re

import pytest

from segmap.compiler import functions as registry
from segmap.compiler.functions import (
    ALL_SPECS,
    FUNCTIONS,
    INTERNAL,
    OPERATORS,
    RAISES,
    UNARY_OPERATORS,
    example_text,
    js_runtime_blocks,
    js_runtime_source,
    js_runtime_text,
)
from segmap.runtime import currency, functions
from tests.conftest import require_tool
from tests.runtime.bridge import run_py
from tests.support.json_equal import json_same
from tests.support.node import NodeBridge

EXAMPLES = [(spec, ex) for spec in ALL_SPECS for ex in spec.examples]
IDS = [f"{spec.name}-{i}" for spec in ALL_SPECS for i in range(len(spec.examples))]


def _check(outcome: tuple[str, object], expected: object) -> bool:
    if expected is RAISES:
        return outcome[0] == "err"
    return outcome[0] == "ok" and json_same(outcome[1], expected)


@pytest.mark.parametrize(("spec", "example"), EXAMPLES, ids=IDS)
def test_example_python(spec: registry.FunctionSpec, example: registry.Example) -> None:
    args, expected = example
    out = run_py(spec.py, args)
    assert _check(out, expected), f"{example_text(spec, example)}: Python gave {out!r}"


def test_examples_javascript(node_bridge: NodeBridge) -> None:
    outs = node_bridge.calls((spec.js, args) for spec, (args, _) in EXAMPLES)
    bad = [
        f"{example_text(spec, ex)}: JS gave {out!r}"
        for (spec, ex), out in zip(EXAMPLES, outs, strict=True)
        if not _check(out, ex[1])
    ]
    assert not bad, "\n".join(bad)


def test_examples_tree_shaken(node_bridge: NodeBridge) -> None:
    """Each helper works with only its declared dependencies pasted in."""
    bad = []
    for spec in ALL_SPECS:
        ctx = "only_" + spec.js
        node_bridge.load(ctx, js_runtime_source([spec.js]))
        outs = node_bridge.calls(((spec.js, args) for args, _ in spec.examples), ctx=ctx)
        for ex, out in zip(spec.examples, outs, strict=True):
            if not _check(out, ex[1]):
                bad.append(f"{example_text(spec, ex)}: tree-shaken JS gave {out!r}")
    assert not bad, "\n".join(bad)


def test_every_spec_is_complete() -> None:
    blocks = js_runtime_blocks()
    for spec in ALL_SPECS:
        assert callable(getattr(functions, spec.py, None)), spec.py
        assert spec.py in functions.__all__, spec.py
        assert spec.js in blocks, spec.js
        assert spec.doc and spec.examples, spec.name
        assert spec.min_arity >= 1 or spec.variadic
        for args, _ in spec.examples:
            assert spec.accepts_arity(len(args)), (spec.name, args)
        # every function documents at least one failure or null case
        assert any(exp is RAISES or args[0] is None or args[0] is registry.MISSING
                   for args, exp in spec.examples) or spec.name == "fallback", spec.name
    assert set(OPERATORS) == {"+", "-", "*", "/", "%", "<", "<=", ">", ">=", "==", "!="}
    assert set(UNARY_OPERATORS) == {"-"}
    assert set(INTERNAL) == {"truth", "index", "template_part", "num"}
    assert not set(FUNCTIONS) & set(INTERNAL)
    assert FUNCTIONS["coalesce"].variadic and FUNCTIONS["coalesce"].min_arity == 1
    assert FUNCTIONS["round"].py == "round_" and FUNCTIONS["round"].js == "__sm_round"


def test_null_propagation_flags_match_behaviour() -> None:
    """propagates_missing / propagates_null are what the helpers do."""
    filler = {"number": 1, "integer": 2, "string": "s", "currency": "USD", "list": [], "bool": True, "any": 1}
    for spec in FUNCTIONS.values():
        rest = tuple(filler[p.kind] for p in spec.params[1:])
        if spec.propagates_missing:
            assert run_py(spec.py, (registry.MISSING, *rest)) == ("ok", registry.MISSING), spec.name
        if spec.propagates_null:
            assert run_py(spec.py, (None, *rest)) == ("ok", None), spec.name


def test_operator_null_propagation() -> None:
    M = registry.MISSING
    for spec in (*OPERATORS.values(), *UNARY_OPERATORS.values()):
        if len(spec.params) == 1:
            cases = {(M,): M, (None,): None}
        else:
            cases = {(M, 1): M, (1, M): M, (None, 1): None, (1, None): None, (M, None): M, (None, M): M,
                     (None, "a"): None, (M, "a"): M}
        for args, expected in cases.items():
            out = run_py(spec.py, args)
            if spec.propagates_missing:
                assert out == ("ok", expected), (spec.name, args, out)
            else:
                assert out[0] == "ok" and type(out[1]) is bool, (spec.name, args, out)


def test_examples_strict_mode(node_bridge: NodeBridge) -> None:
    """The runtime also works pasted into strict code (an ES module)."""
    node_bridge.load("strict", '"use strict";\n' + js_runtime_source())
    outs = node_bridge.calls(((spec.js, args) for spec, (args, _) in EXAMPLES), ctx="strict")
    bad = [example_text(spec, ex) for (spec, ex), out in zip(EXAMPLES, outs, strict=True) if not _check(out, ex[1])]
    assert not bad, bad


def test_docs_fragment_is_current() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "functions.md").read_text("utf-8")
    assert doc == registry.docs_fragment(), (
        "docs/functions.md is stale: python -m segmap.compiler.functions > docs/functions.md")


_DECL = re.compile(r"^(function|var) (__sm_\w+)", re.M)


def test_js_runtime_shape() -> None:
    text = js_runtime_text()
    blocks = js_runtime_blocks()
    # every top-level line belongs to a block, a comment or is blank
    covered = "".join(b.text for b in blocks.values())
    for line in text.splitlines():
        if line and not line.startswith("//") and not line.startswith(" "):
            assert line in covered, line
            assert _DECL.match(line) or line in ("}", "};"), f"unexpected top-level line: {line}"
    assert [m.group(2) for m in _DECL.finditer(text)] == list(blocks)
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    for forbidden in ("?.", "??", "=>", "class ", "require(", "import ", "let ", "const ", "`", "..."):
        assert forbidden not in code, forbidden
    for name, block in blocks.items():
        block_code = "\n".join(ln for ln in block.text.splitlines() if not ln.lstrip().startswith("//"))
        used = set(re.findall(r"\b__sm_\w+", block_code)) - {name}
        assert used == set(block.deps), f"{name}: uses {sorted(used)}, declares {sorted(block.deps)}"
        assert all(d in blocks for d in block.deps)


def test_js_runtime_parses(node_bridge: NodeBridge) -> None:
    node_bridge.load("syntax_check", js_runtime_source())  # raises on a syntax error


def test_js_currency_table_matches_python() -> None:
    text = js_runtime_blocks()["__sm_CURRENCY_DECIMALS"].text
    table = dict((k, int(v)) for k, v in re.findall(r"\b([A-Z]{3}): (\d)", text))
    assert table == currency.EXPONENTS


def test_currency_table() -> None:
    e = currency.EXPONENTS
    assert len(e) == 145
    assert sorted(c for c, x in e.items() if x == 0) == sorted(
        "BIF CLP DJF GNF JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split())
    assert sorted(c for c, x in e.items() if x == 3) == sorted("BHD IQD JOD KWD LYD OMR TND".split())
    assert all(e[c] == 2 for c in ("ANG", "BGN", "HRK", "SLL", "USD", "EUR", "MGA", "HUF", "IDR"))
    assert list(currency.DODO_CURRENCIES) == sorted(currency.DODO_CURRENCIES)


def test_currency_table_matches_dodo_sdk() -> None:
    import typing

    require_tool("dodopayments")
    from dodopayments.types import currency as cur

    assert set(typing.get_args(cur.Currency)) == set(currency.DODO_CURRENCIES)
