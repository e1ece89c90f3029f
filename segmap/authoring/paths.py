"""Envelope paths for test overrides: ``data.customer.email``, ``data.product_cart[0].quantity``.

A path is dot-separated keys; a list item is ``[N]`` (or ``.N``); a key that
holds a dot or bracket is written ``["a.b"]``. Paths are checked against the
event's model (the same one the checker uses), so a typo in a test override
is an error instead of a test that silently sets a field nothing reads.
"""
from __future__ import annotations

import copy
import json
import re
from typing import Any

from segmap.compiler import types as T
from segmap.compiler.types import Ty
from segmap.runtime.values import type_name
from segmap.errors import SegmapError

Segment = str | int

_TOKEN = re.compile(r"""\[\s*(-?\d+)\s*\]|\[\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\]|\.?([^.\[\]]+)""")


class PathError(ValueError, SegmapError):
    pass


def parse_path(text: str) -> tuple[Segment, ...]:
    """``data.product_cart[0].quantity`` -> ("data", "product_cart", 0, "quantity")."""
    if not text or text.strip() != text:
        raise PathError("a path is written like data.customer.email, without spaces around it")
    out: list[Segment] = []
    pos = 0
    while pos < len(text):
        if pos > 0 and text[pos] not in ".[":
            raise PathError(f"unexpected `{text[pos]}` at position {pos + 1}")
        if pos == 0 and text[0] in ".[":
            raise PathError("a path starts with a name such as data")
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise PathError(f"cannot read the path from position {pos + 1}")
        if m.group(1) is not None:
            out.append(int(m.group(1)))
        elif m.group(2) is not None:
            q = m.group(2)
            out.append(json.loads('"' + q[1:-1].replace('\\\'', "'") + '"') if q[0] == "'" else json.loads(q))
        else:
            name = m.group(3)
            out.append(int(name) if name.isdigit() and out else name)
        pos = m.end()
    if text.endswith("."):
        raise PathError("a path cannot end with `.`")
    return tuple(out)


def format_path(segments) -> str:
    out = ""
    for s in segments:
        if isinstance(s, int):
            out += f"[{s}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s):
            out += f".{s}" if out else s
        else:
            out += f"[{json.dumps(s, ensure_ascii=False)}]"
    return out


# --- against the model ----------------------------------------------------------


def _fields_of(ty: Ty) -> dict[str, Ty] | None:
    if ty.kind == "object":
        return dict(ty.args)
    if ty.kind == "model":
        return T.model_fields(ty.name)
    return None


def check_path(event_type: str, segments: tuple[Segment, ...]) -> tuple[str, str | None] | None:
    """None when the path can exist on ``event_type`` envelopes, else (problem, suggestion)."""
    import difflib

    ty: Ty = T.envelope_type(event_type)
    walked: list[Segment] = []
    for seg in segments:
        base = ty.required()
        where = format_path(walked) or "the envelope"
        if base.kind in ("any",):
            return None
        if isinstance(seg, int):
            if base.kind == "list":
                ty = base.args[0]
            elif base.kind == "dict":
                return (f"`{where}` is {base.describe()}; use a key, not [{seg}]", None)
            else:
                return (f"`{where}` is {base.describe()}, not a list", None)
        else:
            if base.kind == "dict":
                ty = base.args[0]
            elif base.kind == "union":
                options = [o for o in base.args if o.kind in ("dict", "any") or seg in (_fields_of(o) or {})]
                if not options:
                    return (f"`{where}` has no field `{seg}`", None)
                ty = T.union(*[(_fields_of(o) or {}).get(seg, T.ANY) if o.kind != "dict" else o.args[0] for o in options])
            else:
                fields = _fields_of(base)
                if fields is None:
                    if base.kind == "list":
                        return (f"`{where}` is {base.describe()}; write an item index such as {where}[0]", None)
                    return (f"`{where}` is {base.describe()} and has no fields", None)
                if seg not in fields:
                    found = difflib.get_close_matches(seg, list(fields), n=1, cutoff=0.6)
                    sug = format_path(walked + [found[0]]) if found else None
                    return (f"`{where}` has no field `{seg}`", sug)
                ty = fields[seg]
        walked.append(seg)
    return None


# --- on an envelope ----------------------------------------------------------------


def set_path(doc: dict, segments: tuple[Segment, ...], value: Any) -> None:
    """Set ``value`` at ``segments``, creating missing (or null) objects on the way."""
    cur: Any = doc
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        where = format_path(segments[:i]) or "the envelope"
        if isinstance(seg, int):
            if not isinstance(cur, list):
                raise PathError(f"`{where}` is {_what(cur)}, not a list")
            if not -len(cur) <= seg < len(cur):
                raise PathError(f"`{where}` has {len(cur)} item{'s' if len(cur) != 1 else ''}; "
                                f"there is no item [{seg}] in this sample (try another variant, or set the whole list)")
            if last:
                cur[seg] = copy.deepcopy(value)
                return
            if cur[seg] is None:
                cur[seg] = {}
            cur = cur[seg]
        else:
            if not isinstance(cur, dict):
                raise PathError(f"`{where}` is {_what(cur)}, not an object")
            if last:
                cur[seg] = copy.deepcopy(value)
                return
            nxt = cur.get(seg)
            if nxt is None:
                nxt = [] if isinstance(segments[i + 1], int) else {}
                cur[seg] = nxt
            cur = nxt


def unset_path(doc: dict, segments: tuple[Segment, ...]) -> bool:
    """Remove the key (or list item) at ``segments``; False when it was not there."""
    cur: Any = doc
    for seg in segments[:-1]:
        if isinstance(seg, int):
            if not isinstance(cur, list) or not -len(cur) <= seg < len(cur):
                return False
            cur = cur[seg]
        else:
            if not isinstance(cur, dict) or seg not in cur:
                return False
            cur = cur[seg]
    seg = segments[-1]
    if isinstance(seg, int):
        if isinstance(cur, list) and -len(cur) <= seg < len(cur):
            del cur[seg]
            return True
        return False
    if isinstance(cur, dict) and seg in cur:
        del cur[seg]
        return True
    return False


# how a path error names a value's kind (``type_name``), with its article
_KIND_PHRASES = {"null": "null", "bool": "a boolean", "number": "a number", "string": "text", "list": "a list"}


def _what(v: Any) -> str:
    return _KIND_PHRASES.get(type_name(v), "an object")
