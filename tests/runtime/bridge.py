"""Run the same helper calls in Python and in node, and compare.

The session's one node process (``tests/support/node.py``) evaluates whole
batches of calls per request, so a Hypothesis example costs one round trip
instead of one node start.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from segmap.compiler.functions import ALL_SPECS, FunctionSpec
from segmap.runtime.values import MISSING, MappingRuntimeError
from tests.support.json_equal import json_same
from tests.support.node import NodeBridge, Outcome

SPECS_BY_PY: dict[str, FunctionSpec] = {s.py: s for s in ALL_SPECS}


def is_normalised(v: Any) -> bool:
    """Numbers as num() leaves them: no integral float below 2**53, no big int."""
    t = type(v)
    if t is int:
        return -(2**53) < v < 2**53
    if t is float:
        return math.isfinite(v) and not (abs(v) < 2**53 and v.is_integer())
    return True


def run_py(py: str, args: Sequence[Any]) -> Outcome:
    fn = SPECS_BY_PY[py].py_callable() if py in SPECS_BY_PY else None
    if fn is None:
        from segmap.runtime import functions

        fn = getattr(functions, py)
    try:
        return ("ok", fn(*args))
    except MappingRuntimeError as e:
        return ("err", e.message)


def _as_json(v: Any) -> Any:
    """What JSON.stringify makes of undefined inside a value: null in a list, no member in an object."""
    if type(v) is list:
        return [None if x is MISSING else _as_json(x) for x in v]
    if type(v) is dict:
        return {k: _as_json(x) for k, x in v.items() if x is not MISSING}
    return v


def same_text(py_value: Any, js_text: str | None) -> bool:
    """Python's JSON text of a value (segmap.runtime.jsjson.dumps) is node's ``JSON.stringify`` text, byte
    for byte; a string with a lone surrogate has no UTF-8 text, and Python refuses to write one."""
    from segmap.runtime import jsjson

    if py_value is MISSING:
        return js_text is None
    try:
        mine = jsjson.dumps(_as_json(py_value))
    except jsjson.EncodeError:
        try:
            (js_text or "").encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    return js_text is not None and mine == js_text.encode("utf-8")


def agree(py_out: Outcome, js_out: Outcome) -> bool:
    if py_out[0] != js_out[0]:
        return False
    if py_out[0] == "err":
        return True
    return json_same(py_out[1], js_out[1]) and (len(js_out) < 3 or same_text(py_out[1], js_out[2]))  # type: ignore[misc]


def differential(node: NodeBridge, py: str, batch: Sequence[Sequence[Any]], *, check_normalised: bool = False) -> None:
    """Assert Python and JS agree on every argument tuple of ``batch``."""
    spec = SPECS_BY_PY.get(py)
    js = spec.js if spec is not None else "__sm_" + py
    py_outs = [run_py(py, args) for args in batch]
    js_outs = node.calls((js, args) for args in batch)
    bad = [
        (args, p, j)
        for args, p, j in zip(batch, py_outs, js_outs, strict=True)
        if not agree(p, j)
    ]
    if bad:
        args, p, j = bad[0]
        raise AssertionError(
            f"Python and JS disagree on {len(bad)} of {len(batch)} calls to {py}, "
            f"first: {args!r} -> py {p!r}, js {j!r}"
        )
    if check_normalised:
        for args, (kind, value) in zip(batch, py_outs, strict=True):
            assert kind == "err" or is_normalised(value), f"{py}{tuple(args)!r} gave un-normalised {value!r}"
