"""The parse-tree cache of `segmap check` (segmap/dsl/tree_cache.py).

What it serves is what Lark parses; a check served from it says exactly what a check without it
says, and imports no Lark; and nothing a cache file can hold (truncated, foreign, hand-edited,
writable by others) changes a diagnostic or crashes the check: such a file is ignored, and the
next check writes a good one."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmap.diagnostics.model import Span
from segmap.dsl import expressions, plain_tree, tree_cache
from segmap.dsl.yaml_source import YScalar

from tests.check.conftest import ROOT

MAPPINGS = sorted(
    [str(p.relative_to(ROOT)) for d in ("tests/check/catalogue", "tests/check/correct", "examples")
     for p in (ROOT / d).glob("*.yaml")] + ["bench/all_events.yaml"])
SMALL = ["examples/ecommerce.yaml", "tests/check/catalogue/t04_string_arithmetic.yaml"]
# no syntax errors: a text Lark refuses is never cached (its message needs Lark), so a check of a
# file that has one always imports Lark
PARSED = [m for m in MAPPINGS if "E101" not in (ROOT / m).read_text(encoding="utf-8")]

_RUN = """
import sys
from segmap.cli.main import main
code = main(sys.argv[1:])
print("lark imported" if "lark" in sys.modules else "no lark", code, file=sys.stderr)
"""


def _check(files: list[str], cache: Path | None) -> tuple[str, bool]:
    """(the JSON output, whether Lark was imported) of `segmap check` in a fresh process."""
    env = {**os.environ, "NO_COLOR": "1"}
    if cache is None:
        env["SEGMAP_NO_CACHE"] = "1"
    else:
        env["SEGMAP_CACHE_DIR"] = str(cache)
    proc = subprocess.run([sys.executable, "-c", _RUN, "check", "--format", "json", *files], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    last = proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout, last.startswith("lark imported")


def _cache_file(cache: Path) -> Path:
    (found,) = cache.glob("expr-trees-*.json")
    return found


@pytest.fixture(scope="module")
def without_cache() -> str:
    return _check(MAPPINGS, None)[0]


def test_the_terminals_are_the_grammars():
    lark = {t.name: t.pattern.value for t in expressions.parser().terminals}
    assert {name: lark[name] for name in plain_tree.TERMINALS} == plain_tree.TERMINALS
    # every other terminal is an anonymous string (filtered out of trees) or ignored whitespace
    others = [t for t in expressions.parser().terminals if t.name not in plain_tree.TERMINALS]
    assert all(t.pattern.type == "str" or t.name == "WS" for t in others)


def test_a_check_served_from_the_cache_says_the_same_and_imports_no_lark(tmp_path, without_cache):
    first, lark_first = _check(MAPPINGS, tmp_path)
    assert first == without_cache and lark_first
    trees = _read(_cache_file(tmp_path))[1]
    assert len(trees) > 100
    for text, tree in trees.items():  # every tree Lark gives is one the cache will serve
        assert plain_tree.valid(tree, text), text
        assert tree == plain_tree.from_lark(expressions.parser().parse(text))
    second, _ = _check(MAPPINGS, tmp_path)
    assert second == without_cache
    assert len(PARSED) > 100 and not _check(PARSED, tmp_path)[1]


def test_the_cache_is_private(tmp_path):
    cache = tmp_path / "cache"
    _check(SMALL, cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(_cache_file(cache).stat().st_mode) == 0o600


def _read(path: Path) -> tuple[dict, dict]:
    head, _, body = path.read_bytes().partition(b"\n")
    return json.loads(head), json.loads(body)


def _write(path: Path, header: dict, trees: object) -> None:
    """Write a cache file as segmap does, with the checksum of what it holds (as a bug might)."""
    body = trees if isinstance(trees, bytes) else json.dumps(trees).encode()
    header = {**header, "crc32": zlib.crc32(body)}
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)


def _shift(tree, by):
    return [tree[0], *(x + by if isinstance(x, int) else x for x in tree[1:3]),
            *([[_shift(k, by) for k in tree[3]]] if len(tree) == 4 else [])]


def _rename_tokens(tree, old, new):
    if len(tree) == 3:
        return [new if tree[0] == old else tree[0], *tree[1:]]
    return [*tree[:3], [_rename_tokens(k, old, new) for k in tree[3]]]


def _reverse_children(tree):
    if len(tree) == 3:
        return tree
    return [*tree[:3], [_reverse_children(k) for k in tree[3]][::-1]]


# a damaged file: the checksum no longer matches, the whole file is ignored
DAMAGE = {
    "truncated": lambda raw: raw[: len(raw) * 2 // 3],
    "not JSON": lambda raw: b"\x00 not json",
    "no header": lambda raw: raw.partition(b"\n")[2],
    "a digit changed": lambda raw: raw[:-40] + raw[-40:].replace(b"1", b"2", 1).replace(b"3", b"4", 1),
    "deeply nested JSON": lambda raw: raw.partition(b"\n")[0] + b"\n" + b"[" * 100_000,
}
# a file written with the right checksum but the wrong content: refused by its key or its trees
WRONG = {
    "another grammar": lambda header, trees: ({**header, "grammar": "start: NAME"}, trees),
    "another Lark": lambda header, trees: ({**header, "lark": "0.0.1"}, trees),
    "trees not an object": lambda header, trees: (header, [1, 2]),
    "deeply nested trees": lambda header, trees: (header, b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
    "entries not trees": lambda header, trees: (header, {t: "x" for t in trees}),
    "offsets out of range": lambda header, trees: (header, {t: _shift(v, 1000) for t, v in trees.items()}),
    "names as numbers": lambda header, trees: (header, {t: _rename_tokens(v, "NAME", "NUMBER") for t, v in trees.items()}),
    "children reversed": lambda header, trees: (header, {t: _reverse_children(v) for t, v in trees.items()}),
    "strings where offsets belong": lambda header, trees: (header, {t: [v[0], "0", *v[2:]] for t, v in trees.items()}),
}


def _assert_reparsed_then_rewritten(cache: Path, expected: str) -> None:
    out, lark = _check(SMALL, cache)
    assert out == expected and lark  # parsed again ...
    out, lark = _check(SMALL, cache)
    assert out == expected and not lark  # ... and written again


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_cache_file_is_ignored_and_rewritten(tmp_path, damage):
    expected = _check(SMALL, None)[0]
    _check(SMALL, tmp_path)
    path = _cache_file(tmp_path)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    _assert_reparsed_then_rewritten(tmp_path, expected)


@pytest.mark.parametrize("wrong", WRONG)
def test_a_wrong_cache_file_is_ignored_and_rewritten(tmp_path, wrong):
    expected = _check(SMALL, None)[0]
    _check(SMALL, tmp_path)
    path = _cache_file(tmp_path)
    _write(path, *WRONG[wrong](*_read(path)))
    _assert_reparsed_then_rewritten(tmp_path, expected)


def test_a_cache_others_can_write_is_not_read(tmp_path):
    expected = _check(SMALL, None)[0]
    _check(SMALL, tmp_path)
    path = _cache_file(tmp_path)
    path.chmod(0o666)  # the same trees in a file anyone may change
    out, lark = _check(SMALL, tmp_path)
    assert out == expected and lark
    tmp_path.chmod(0o777)  # a directory anyone may change: nothing is read or written there
    path.unlink()
    out, lark = _check(SMALL, tmp_path)
    assert out == expected and lark and not list(tmp_path.glob("expr-trees-*.json"))


def test_an_unusable_cache_location_is_silent(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    expected = _check(SMALL, None)[0]
    assert _check(SMALL, blocker)[0] == expected
    assert _check(SMALL, blocker / "below")[0] == expected


def test_only_the_newest_trees_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(tree_cache, "MAX_TREES", 3)
    cache = tree_cache.TreeCache.open(str(tmp_path), "grammar", "1")
    for name in "abcde":
        cache.put(name, ["name", 0, 1, [["NAME", 0, 1]]])
    cache.save()
    again = tree_cache.TreeCache.open(str(tmp_path), "grammar", "1")
    assert [again.get(n) is not None for n in "abcde"] == [False, False, True, True, True]
    assert tree_cache.TreeCache.open(str(tmp_path), "other grammar", "1").get("e") is None


def test_the_cache_is_on_for_the_check_command_only():
    from segmap.cli.main import main

    assert main(["check", "examples/ecommerce.yaml"]) == 0
    assert expressions._tree_cache is None  # on for the command only


# --- any tree a cache file could hold is refused or builds like a parsed one ---------------

_TEXTS = ['data.customer.customer_id ?? "x"', "if a.b > 1 then -c[0] else not d and e or f",
          'map(data.items ?? [], i => {id: i.product_id, "q": i.quantity * 2})', 'f"{data.a} and {b}"',
          "to_major(data.total_amount, data.currency)", "[1, 2.5e3, true, null, 'x']", "x == 1e999"]
_TREES = {t: plain_tree.from_lark(expressions.parser().parse(t)) for t in _TEXTS}


def _nodes(tree, path=()):
    yield path, tree
    if len(tree) == 4:
        for i, kid in enumerate(tree[3]):
            yield from _nodes(kid, (*path, i))


def _replace(tree, path, new):
    if not path:
        return new
    kids = list(tree[3])
    kids[path[0]] = _replace(kids[path[0]], path[1:], new)
    return [*tree[:3], kids]


@st.composite
def _mutated(draw):
    text = draw(st.sampled_from(_TEXTS))
    tree = _TREES[text]
    for _ in range(draw(st.integers(1, 3))):
        path, node = draw(st.sampled_from(list(_nodes(tree))))
        how = draw(st.sampled_from(["offset", "name", "drop", "dup", "swap", "graft"]))
        if how == "offset":
            i = draw(st.sampled_from([1, 2]))
            node = [*node[:i], draw(st.integers(-2, len(text) + 2)), *node[i + 1:]]
        elif how == "name":
            node = [draw(st.sampled_from([*plain_tree.TERMINALS, "cond", "call", "args", "entry", "name", "x"])),
                    *node[1:]]
        elif how in ("drop", "dup", "swap") and len(node) == 4 and node[3]:
            kids = list(node[3])
            i = draw(st.integers(0, len(kids) - 1))
            kids = kids[:i] + kids[i + 1:] if how == "drop" else kids + [kids[i]] if how == "dup" else kids[::-1]
            node = [*node[:3], kids]
        elif how == "graft":
            node = draw(st.sampled_from([n for _, n in _nodes(_TREES[draw(st.sampled_from(_TEXTS))])]))
        tree = _replace(tree, path, node)
    return text, tree


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_a_mutated_tree_is_refused_or_builds_without_error(case):
    text, tree = case
    cache = tree_cache.TreeCache(None, {}, {text: tree})
    expressions.use_tree_cache(cache)
    expressions._parse_scalar_cached.cache_clear()
    try:
        expr, diags = expressions.parse_scalar(YScalar(text, Span("f.yaml", 1, 1), None))
    finally:
        expressions.use_tree_cache(None)
        expressions._parse_scalar_cached.cache_clear()
    assert expr is not None or diags
    if not plain_tree.valid(tree, text):
        assert cache._added.get(text) == _TREES[text]  # parsed by Lark instead, and stored for next time


def test_where_the_cache_lives(monkeypatch, tmp_path):
    for name in ("SEGMAP_NO_CACHE", "SEGMAP_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert tree_cache.cache_dir() == str(tmp_path / ".cache" / "segmap")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tree_cache.cache_dir() == str(tmp_path / "xdg" / "segmap")
    monkeypatch.setenv("SEGMAP_CACHE_DIR", str(tmp_path / "own"))
    assert tree_cache.cache_dir() == str(tmp_path / "own")
    monkeypatch.setenv("SEGMAP_NO_CACHE", "1")
    assert tree_cache.cache_dir() is None
    monkeypatch.delenv("SEGMAP_NO_CACHE")
    monkeypatch.delenv("SEGMAP_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no home directory at all
    assert tree_cache.cache_dir() is None
