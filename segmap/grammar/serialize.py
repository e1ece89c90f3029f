"""The expression parser, pre-built: Lark's LALR tables shipped as a Python module.

Building the LALR tables from ``expr.lark`` takes longer than checking a
whole mapping, and every `segmap check` is a fresh process. So the tables are
serialised ahead of time into ``expr_tables.py`` (plain Python literals:
imported from its .pyc, no pickle, no cache directory to write or trust) and
loaded with ``Lark.load``.

``DIGEST`` in that module is the SHA-256 of the grammar text and the parser
options, ``LARK`` the Lark version that wrote the tables. When either does not
match (someone edited the grammar, or another Lark version is installed) the
parser is built from the grammar as before, so a stale table can cost time but
never correctness; ``tests/check/test_speed.py`` fails until the tables are
regenerated with::

    python -m segmap.grammar.serialize

Lark numbers its LALR states in an order that changes from run to run (it
iterates over sets of objects), so the states and tokens are renumbered into a
canonical order before writing: the same grammar always gives the same bytes,
and a grammar edit gives a diff of what changed.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Lark

OPTIONS: dict[str, Any] = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": False}


def grammar_text() -> str:
    # a plain file read: importlib.resources costs a cold `segmap check` several milliseconds of imports
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "expr.lark"), encoding="utf-8") as fh:
        return fh.read()


def digest(grammar: str | None = None) -> str:
    import hashlib

    text = grammar_text() if grammar is None else grammar
    key = f"{sorted(OPTIONS.items())!r}\n{text}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def build(grammar: str | None = None) -> Lark:
    """The parser built from the grammar (slow: computes the LALR tables)."""
    from lark import Lark

    return Lark(grammar_text() if grammar is None else grammar, **OPTIONS)


def load_parser() -> Lark:
    """The expression parser: from the shipped tables when fresh, else built from the grammar."""
    from lark import Lark

    grammar = grammar_text()
    try:
        from segmap.grammar import expr_tables
    except ImportError:  # pragma: no cover - tables not generated yet
        return build(grammar)
    import lark

    if getattr(expr_tables, "DIGEST", None) != digest(grammar) or getattr(expr_tables, "LARK", None) != lark.__version__:
        return build(grammar)
    try:
        return Lark.load({"data": expr_tables.DATA, "memo": expr_tables.MEMO})
    except Exception:  # noqa: BLE001 - an unreadable table is only a lost speed-up
        return build(grammar)


def canonical_parse_table(table: dict[str, Any]) -> dict[str, Any]:
    """``table`` (Lark's serialized LALR table) with tokens numbered by name and states by a
    breadth-first walk from the start states that follows shifts in token-name order: the
    same automaton always gets the same numbers, however Lark happened to number it."""
    names = table["tokens"]  # token number -> terminal or rule name
    token_no = {name: i for i, name in enumerate(sorted(set(names.values())))}
    states = table["states"]
    state_no: dict[int, int] = {}
    queue = [table["start_states"][start] for start in sorted(table["start_states"])]
    while queue:
        state = queue.pop(0)
        if state in state_no:
            continue
        state_no[state] = len(state_no)
        for _name, (action, arg) in sorted((names[t], act) for t, act in states[state].items()):
            if action == 0:  # shift (or goto): arg is the next state
                queue.append(arg)
    if len(state_no) != len(states):
        raise ValueError("unreachable LALR states: cannot number them canonically")
    return {
        "tokens": {i: name for name, i in token_no.items()},
        "states": {state_no[s]: {token_no[names[t]]: (action, state_no[arg] if action == 0 else arg)
                                 for t, (action, arg) in actions.items()}
                   for s, actions in states.items()},
        "start_states": {k: state_no[v] for k, v in table["start_states"].items()},
        "end_states": {k: state_no[v] for k, v in table["end_states"].items()},
    }


# A regex with no upper bound on its match length has a maximum width of sre's MAXREPEAT
# (2**32 - 1) under some Python 3.11 releases and 2**64 under later ones; both mean "unbounded"
# to Lark, so the tables say the smaller one whichever Python wrote them.
_UNBOUNDED_WIDTH = 4294967295


def _canonical(data: Any) -> Any:
    if isinstance(data, dict):
        if {"tokens", "states", "start_states", "end_states"} <= set(data):
            return canonical_parse_table(data)
        out = {k: _canonical(v) for k, v in data.items()}
        if isinstance(out.get("_width"), list) and str(out.get("__type__", "")).startswith("Pattern"):
            out["_width"] = [min(w, _UNBOUNDED_WIDTH) for w in out["_width"]]
        return out
    if isinstance(data, list):
        return [_canonical(v) for v in data]
    return data


def tables_source() -> str:
    """The text of ``expr_tables.py`` for the current grammar and Lark version."""
    import pprint

    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    grammar = grammar_text()
    parser = build(grammar)
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data, memo = _canonical(data), _canonical(memo)
    return (
        '"""Generated by `python -m segmap.grammar.serialize` from expr.lark; do not edit."""\n'
        "# fmt: off\n"
        f"DIGEST = {digest(grammar)!r}\n"
        f"LARK = {lark.__version__!r}\n"
        f"DATA = {pprint.pformat(data, width=120, sort_dicts=True)}\n"
        f"MEMO = {pprint.pformat(memo, width=120, sort_dicts=True)}\n"
    )


def main() -> None:
    from pathlib import Path

    target = Path(__file__).with_name("expr_tables.py")
    target.write_text(tables_source(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":  # pragma: no cover
    main()
