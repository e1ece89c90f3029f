"""JSON values for mapping tests: reading YAML data, comparing, diffing.

A ``tests:`` section is *data*, not expressions: ``revenue: 54.98`` is the
number 54.98 and ``currency: USD`` the text "USD". Plain scalars are read
with the YAML 1.2 core schema (the JSON-compatible one: ``null``/``~``,
``true``/``false``, integers, decimals); quoted and block scalars are always
text, so ``"500"`` is the string 500 and ``2025-01-01`` stays text. YAML 1.1
oddities (``yes``/``no``/``on`` as booleans, sexagesimal numbers, dates) do
not apply.

Comparison is JSON's: ``true`` is not ``1``, and ``15`` equals ``15.0``.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from segmap.dsl.yaml_source import YMap, YNode, YScalar
from segmap.runtime.values import type_name
from segmap.errors import SegmapError

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)\Z|\.(nan|NaN|NAN)\Z")


class NotJson(ValueError, SegmapError):
    """A YAML scalar with no JSON equivalent (``.inf``, ``.nan``)."""


def scalar_value(node: YScalar) -> Any:
    """The JSON value of one YAML scalar under the YAML 1.2 core schema."""
    text = node.value
    if node.style is not None:  # quoted or block: always text
        return text
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _SPECIAL_FLOAT.match(text):
        raise NotJson(f"`{text}` is not a JSON number")
    return text


def to_json(node: YNode) -> Any:
    """A YAML node as a JSON value (raises NotJson for .inf/.nan)."""
    if isinstance(node, YScalar):
        return scalar_value(node)
    if isinstance(node, YMap):
        return {k.value: to_json(v) for k, v in node.items}
    return [to_json(item) for item in node.items]


def first_not_json(node: YNode) -> YScalar | None:
    """The first scalar below ``node`` that has no JSON value, for a located error."""
    if isinstance(node, YScalar):
        try:
            scalar_value(node)
        except NotJson:
            return node
        return None
    children = [v for _, v in node.items] if isinstance(node, YMap) else list(node.items)
    for ch in children:
        bad = first_not_json(ch)
        if bad is not None:
            return bad
    return None


# --- comparison ---------------------------------------------------------------


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: bools are not numbers, 1 == 1.0, NaN never equal."""
    ka, kb = type_name(a), type_name(b)
    if ka != kb:
        return False
    if ka == "list":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if ka == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if ka == "number":
        return a == b and not (isinstance(a, float) and math.isnan(a))
    return a == b


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One difference: where (a path like ``properties.products[0].price``) and what."""

    path: str
    expected: Any
    actual: Any
    missing: bool = False  # the actual value has no such key / item
    extra: bool = False  # the actual value has a key the expected (full match) lacks

    def describe(self) -> str:
        where = self.path or "the value"
        if self.missing:
            return f"{where}: expected {show(self.expected)}, but it is absent"
        if self.extra:
            return f"{where}: not expected, got {show(self.actual)}"
        return f"{where}: expected {show(self.expected)}, got {show(self.actual)}"


def show(v: Any, limit: int = 80) -> str:
    text = json.dumps(v, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def compare(expected: Any, actual: Any, partial: bool, path: str = "") -> list[Mismatch]:
    """Differences between ``expected`` and ``actual``.

    ``partial``: every object in ``expected`` is a subset of the actual object
    at the same place (recursively, also inside list items); lists must still
    have the same length. Otherwise the values must be equal.
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[Mismatch] = []
        for key, want in expected.items():
            sub = _join(path, key)
            if key not in actual:
                out.append(Mismatch(sub, want, None, missing=True))
            else:
                out.extend(compare(want, actual[key], partial, sub))
        if not partial:
            for key in actual:
                if key not in expected:
                    out.append(Mismatch(_join(path, key), None, actual[key], extra=True))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [Mismatch(path + " (length)" if path else "length", len(expected), len(actual))]
        out = []
        for i, (want, got) in enumerate(zip(expected, actual)):
            out.extend(compare(want, got, partial, _join(path, i)))
        return out
    if json_equal(expected, actual):
        return []
    return [Mismatch(path, expected, actual)]


def prune_like(actual: Any, expected: Any) -> Any:
    """``actual`` cut down to the keys ``expected`` mentions (for a focused partial diff)."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        return {k: prune_like(actual[k], expected[k]) for k in expected if k in actual}
    if isinstance(actual, list) and isinstance(expected, list) and len(actual) == len(expected):
        return [prune_like(a, e) for a, e in zip(actual, expected)]
    return actual


def align_like(actual: Any, expected: Any) -> Any:
    """``actual`` with its object keys in ``expected``'s order (others after), so a diff shows
    only real differences: key order means nothing to Segment."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        keys = [k for k in expected if k in actual] + [k for k in actual if k not in expected]
        return {k: align_like(actual[k], expected.get(k)) for k in keys}
    if isinstance(actual, list) and isinstance(expected, list):
        return [align_like(a, expected[i]) if i < len(expected) else a for i, a in enumerate(actual)]
    return actual


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
