"""What keeps `segmap check` fast: pre-built parser tables, a parse cache per
expression text, and no heavy imports. (Timings are measured by bench/bench_check.py,
not asserted here.)"""
import difflib
import os
import subprocess
import sys

import pytest

from segmap.dsl.expressions import parse_scalar
from segmap.dsl.yaml_source import load_yaml
from segmap.grammar import serialize

from tests.check.conftest import ROOT


def _without_lark_stamp(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("LARK = ")]


def test_shipped_parser_tables_are_fresh():
    """The tables the installed Lark builds from expr.lark, compared with the shipped ones by
    content: another Lark release that builds the same tables passes (its version stamp aside)."""
    shipped = (ROOT / "segmap" / "grammar" / "expr_tables.py").read_text(encoding="utf-8")
    fresh = serialize.tables_source()
    diff = list(difflib.unified_diff(_without_lark_stamp(shipped), _without_lark_stamp(fresh), "shipped", "fresh",
                                     lineterm="", n=1))
    assert not diff, ("segmap/grammar/expr_tables.py is stale: run `python -m segmap.grammar.serialize`\n"
                      + "\n".join(diff[:60]))


def test_regenerated_tables_are_byte_identical():
    """Two interpreters with different hash seeds write the same bytes (Lark's own state
    numbering differs between them), so a grammar edit gives a diff of what changed."""
    code = "import sys; from segmap.grammar import serialize; sys.stdout.write(serialize.tables_source())"
    outputs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("0", "1")}
    assert len(outputs) == 1


def test_unbounded_regex_widths_are_written_the_same_under_every_python():
    """Python 3.11.2 says 2**32 - 1 where 3.11.7 says 2**64 for an unbounded regex width."""
    for width in (2**32 - 1, 2**64):
        pattern = {"__type__": "PatternRE", "_width": [1, width], "flags": [], "raw": None, "value": "a+"}
        assert serialize._canonical({0: {"pattern": pattern}})[0]["pattern"]["_width"] == [1, 2**32 - 1]
    assert str(2**64) not in (ROOT / "segmap" / "grammar" / "expr_tables.py").read_text(encoding="utf-8")


def test_canonical_numbering_ignores_how_lark_numbered_the_states():
    from segmap.grammar import expr_tables

    table = expr_tables.DATA["parser"]["parser"]
    relabel = {s: (s * 7 + 3) % 1000 + 1000 for s in table["states"]}  # any other numbering of the same automaton
    shuffled = {
        "tokens": table["tokens"],
        "states": {relabel[s]: {t: (a, relabel[x] if a == 0 else x) for t, (a, x) in acts.items()}
                   for s, acts in reversed(list(table["states"].items()))},
        "start_states": {k: relabel[v] for k, v in table["start_states"].items()},
        "end_states": {k: relabel[v] for k, v in table["end_states"].items()},
    }
    assert serialize.canonical_parse_table(shuffled) == table


def test_the_tables_are_used_and_parse_like_the_grammar(monkeypatch):
    built = serialize.build()
    monkeypatch.setattr(serialize, "build", lambda *a: pytest.fail("the grammar was rebuilt"))
    loaded = serialize.load_parser()
    for text in ("a.b + 1 * -c", 'if x != null then f"{x} y" else "z"', "map(d ?? [], p => {a: p.b, 'c': [1, 2.5e3]})",
                 "not a and b or c <= 2", 'data["odd key"][0]'):
        assert loaded.parse(text) == built.parse(text)


@pytest.mark.parametrize("stamp", ["DIGEST", "LARK"])
def test_stale_tables_fall_back_to_the_grammar(monkeypatch, stamp):
    from lark import Lark

    from segmap.grammar import expr_tables

    from_tables = serialize.load_parser().parse("a.b")
    monkeypatch.setattr(expr_tables, stamp, "stale")
    monkeypatch.setattr(Lark, "load", lambda *a, **k: pytest.fail("stale tables were loaded"))
    rebuilt = []
    real_build = serialize.build
    monkeypatch.setattr(serialize, "build", lambda *a: rebuilt.append(1) or real_build(*a))
    tree = serialize.load_parser().parse("a.b")
    assert rebuilt == [1] and tree == from_tables


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
    # nor the other commands' modules, nor what only they need (read and registered only for their command)
    assert not {m for m in loaded if m.startswith("segmap.cli.cmd_")} - {"segmap.cli.cmd_check"}
    assert not loaded & {"importlib.resources", "segmap.settings"}, \
        sorted(loaded & {"importlib.resources", "segmap.settings"})


def test_a_check_in_process_leaves_the_cycle_collector_alone():
    # `segmap check` run as the program exempts what it leaves from the exit collections
    # (segmap.cli.main); a caller of main(argv) in its own process keeps its collector
    import gc

    from segmap.cli.main import main

    before = gc.get_freeze_count()
    assert main(["check", "segmap/cli/starter.yaml"]) == 0
    assert gc.get_freeze_count() == before


def test_a_check_run_as_the_program_exits_as_before():
    out = subprocess.run([sys.executable, "-m", "segmap", "check", "tests/check/catalogue/t01_path_typo.yaml",
                          "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 1 and out.stderr == "" and '"E203"' in out.stdout


@pytest.mark.parametrize("columns", ["50", "100", "", "zero"])
def test_help_is_laid_out_as_argparse_would(monkeypatch, columns):
    # segmap's parser gives argparse's formatters the width without importing shutil (segmap.cli.main)
    import argparse

    from segmap.cli import main as cli

    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parsers = [parser, *sub.choices.values()]
    ours = [p.format_help() for p in parsers]
    monkeypatch.setattr(cli._Parser, "_get_formatter", argparse.ArgumentParser._get_formatter)
    assert [p.format_help() for p in parsers] == ours
    assert len(parsers) > 15
