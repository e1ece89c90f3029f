"""JSON equality as a JavaScript reader sees it: the one comparison of Python and node results.

``true`` is not ``1``, ``1`` is ``1.0``, and numbers compare as the doubles
JavaScript holds (an int beyond 2**53 passed through equals its rounded
double). ``MISSING`` (JavaScript's ``undefined``) equals only itself.
"""
from __future__ import annotations

from typing import Any

from segmap.runtime.values import MISSING


def json_same(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if a is MISSING or b is MISSING:
        return a is b
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float):
        return tb in (int, float) and float(a) == float(b)
    if a is None:
        return b is None
    if ta is str:
        return tb is str and a == b
    if ta is list:
        return tb is list and len(a) == len(b) and all(json_same(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict:
        return tb is dict and a.keys() == b.keys() and all(json_same(a[k], b[k]) for k in a)
    raise TypeError(f"not a JSON value: {a!r}")
