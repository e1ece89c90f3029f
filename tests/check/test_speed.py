"""What keeps `segmap check` fast: pre-built parser tables, a parse cache per
expression text, and no heavy imports. (Timings are measured by bench/bench_check.py,
not asserted here.)"""
import subprocess
import sys

import pytest

from segmap.diagnostics.model import Span
from segmap.dsl.expressions import parse_scalar
from segmap.dsl.yaml_source import YScalar, load_yaml
from segmap.grammar import serialize

from tests.check.conftest import ROOT


def test_shipped_parser_tables_are_fresh():
    from segmap.grammar import expr_tables

    assert expr_tables.DIGEST == serialize.digest(), (
        "segmap/grammar/expr.lark (or the Lark version) changed: run `python -m segmap.grammar.serialize`")
    # (the table text itself is not compared: Lark numbers its states differently from run to run)


def test_the_tables_are_used_and_parse_like_the_grammar(monkeypatch):
    built = serialize.build()
    monkeypatch.setattr(serialize, "build", lambda *a: pytest.fail("the grammar was rebuilt"))
    loaded = serialize.load_parser()
    for text in ("a.b + 1 * -c", 'if x != null then f"{x} y" else "z"', "map(d ?? [], p => {a: p.b, 'c': [1, 2.5e3]})",
                 "not a and b or c <= 2", 'data["odd key"][0]'):
        assert loaded.parse(text) == built.parse(text)


def test_stale_tables_fall_back_to_the_grammar(monkeypatch):
    from segmap.grammar import expr_tables

    monkeypatch.setattr(expr_tables, "DIGEST", "stale")
    assert serialize.load_parser().parse("a.b") == serialize.build().parse("a.b")


def test_repeated_expression_texts_get_their_own_spans():
    # the parse tree is cached by text; each occurrence must still be located where it stands
    root, _ = load_yaml("a: data.customer.email\nbb: data.customer.email\n", "f.yaml")
    (_, a), (_, b) = root.items
    ea, eb = parse_scalar(a)[0], parse_scalar(b)[0]
    assert (ea.span.line, ea.span.col) == (1, 4) and (eb.span.line, eb.span.col) == (2, 5)
    assert ea.name == eb.name == "email"


def test_check_does_not_import_heavy_modules():
    code = ("import sys\nfrom segmap.cli.main import main\nmain(['check', 'segmap/cli/starter.yaml'])\n"
            "print(' '.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    loaded = set(out.stdout.split())
    heavy = {"jinja2", "httpx", "starlette", "uvicorn", "pydantic", "orjson", "sqlite3", "asyncio", "dodopayments",
             "lark.load_grammar.GrammarBuilder"}
    assert "segmap.compiler.checker" in loaded
    assert not {m.split(".")[0] for m in loaded} & heavy, sorted({m.split(".")[0] for m in loaded} & heavy)
    assert "segmap.compiler.pygen" not in loaded  # checking generates no code
