"""Hypothesis strategies for SDK-valid Dodo webhook envelopes.

Property and differential tests (compiled mapping vs. reference semantics,
Python vs. JS backend) need inputs that the SDK would accept but that hit the
awkward corners a hand-written sample never does: optional fields absent or
null independently, 0- and 3-decimal currencies, zero/huge/negative amounts,
strings with U+2028, quotes, backslashes, NUL and emoji, empty and 3-item
lists, timestamps with non-UTC offsets. Everything is derived from the shipped
schema snapshot, so the strategies follow the SDK when the snapshot is
refreshed. Per-model strategies are cached: building them is the slow part.
"""
from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from hypothesis import strategies as st

from segmap.compiler.snapshot import load_snapshot

__all__ = ["envelopes", "model_values", "tricky_text"]

# 0-, 2- and 3-decimal ISO 4217 codes, drawn often so minor-unit bugs surface early.
FEATURED_CURRENCIES = ("JPY", "KRW", "CLP", "USD", "EUR", "INR", "KWD", "BHD", "TND")

_SPECIAL_STRINGS = (
    "", " ", "\u2028", "\u2029", "line\u2028sep\u2029para", '"', "'", "\\", '\\"', "\x00", "\n\t\r",
    "😀", "👩‍💻", "e\u0301", "Zoë Müller", "</script><script>alert(1)</script>", "${x}{{x}}", "null", "0",
    "a\"b\\c\u2028d😀",
)
_OFFSETS = tuple(timezone(timedelta(minutes=m)) for m in (0, 0, 0, 330, -480, 845, -720, 14 * 60))
_ID_PREFIXES = ("pay", "cus", "sub", "ref", "dis", "lic", "bus", "pdt", "dsc")


def tricky_text(max_size: int = 16) -> st.SearchStrategy[str]:
    """Any text, weighted towards strings that break naive JSON/JS/SQL escaping."""
    return st.one_of(st.sampled_from(_SPECIAL_STRINGS), st.text(max_size=max_size))


def envelopes(event_types: Iterable[str] | None = None) -> st.SearchStrategy[dict]:
    """Envelopes ``{business_id, type, timestamp, data}`` that the SDK's event models accept."""
    known = load_snapshot()["events"]
    chosen = sorted(known) if event_types is None else list(event_types)
    unknown = [et for et in chosen if et not in known]
    if unknown or not chosen:
        raise KeyError(f"unknown Dodo event types: {unknown or '(none given)'}")
    return st.sampled_from(chosen).flatmap(_envelope)


def model_values(model: str) -> st.SearchStrategy[dict]:
    """Dicts for one snapshot model (e.g. ``"Payment"``); also useful on their own."""
    if model not in load_snapshot()["models"]:
        raise KeyError(f"unknown snapshot model {model!r}")
    return _model(model)


@functools.cache
def _envelope(event_type: str) -> st.SearchStrategy[dict]:
    snap = load_snapshot()
    fields = {name: _field(name, fdef) for name, fdef in snap["envelope"].items()}
    fields["type"] = st.just(event_type)
    fields["data"] = _model(snap["events"][event_type]["data"])
    return st.fixed_dictionaries(fields)


@functools.cache
def _model(name: str) -> st.SearchStrategy[dict]:
    required: dict[str, st.SearchStrategy] = {}
    optional: dict[str, st.SearchStrategy] = {}
    for fname, fdef in load_snapshot()["models"][name]["fields"].items():
        (required if fdef["required"] else optional)[fname] = _field(fname, fdef)
    return st.fixed_dictionaries(required, optional=optional)


def _field(fname: str, fdef: dict) -> st.SearchStrategy:
    value = _value(fname, fdef["type"])
    return st.one_of(st.none(), value) if fdef["nullable"] else value


def _value(fname: str, t: dict) -> st.SearchStrategy:
    kind = t["t"]
    if kind == "model":
        name = t["name"]
        return st.deferred(lambda: _model(name))  # deferred: a model may refer to itself
    if kind == "list":
        return st.lists(_value(fname, t["items"]), max_size=3)
    if kind == "dict":
        return st.dictionaries(tricky_text(8), _value(fname, t["values"]), max_size=3)
    if kind == "union":
        return st.one_of([_value(fname, m) for m in t["of"]])
    if kind == "enum":
        if t["name"] == "Currency":
            return _currencies(tuple(t["values"]))
        return st.sampled_from(t["values"])
    if kind == "str":
        if fname == "currency":  # Dispute.currency is a plain str holding an ISO code
            return st.one_of(st.sampled_from(FEATURED_CURRENCIES), tricky_text())
        if fname == "id" or fname.endswith(("_id", "_ids")):
            return _ids()
        if fname == "email":
            return st.one_of(st.emails(), tricky_text())
        return tricky_text()
    return _SCALARS[kind]()


@functools.cache
def _currencies(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    featured = [c for c in FEATURED_CURRENCIES if c in values]
    return st.one_of(st.sampled_from(featured), st.sampled_from(values)) if featured else st.sampled_from(values)


@functools.cache
def _ids() -> st.SearchStrategy[str]:
    alnum = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=24)
    prefixed = st.builds(lambda p, body: f"{p}_{body}", st.sampled_from(_ID_PREFIXES), alnum)
    return st.one_of(prefixed, tricky_text())


@functools.cache
def _ints() -> st.SearchStrategy[int]:
    edges = st.sampled_from([0, 1, -1, 99, 100, 999, 1000, 2**31 - 1, 2**31, 2**53, 2**53 + 1, 2**63 - 1, -(2**53), 10**15])
    huge = st.one_of(st.integers(2**53 - 2, 2**64), st.integers(-(2**64), -(2**31)))
    return st.one_of(edges, st.integers(-10_000, 10**7), huge)


@functools.cache
def _floats() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.0, -0.0, 0.1, 1e-7, 1e21, 2.0**53]),
                     st.floats(allow_nan=False, allow_infinity=False))


@functools.cache
def _datetimes() -> st.SearchStrategy[str]:
    moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1))

    def render(moment: datetime, offset: timezone, style: int) -> str:
        aware = moment.replace(tzinfo=timezone.utc).astimezone(offset)
        if style == 0 and offset.utcoffset(None) == timedelta(0):
            return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # Dodo's own form
        if style == 1:
            return aware.replace(microsecond=0).isoformat()
        return aware.isoformat()

    return st.builds(render, moments, st.sampled_from(_OFFSETS), st.integers(0, 2))


@functools.cache
def _any() -> st.SearchStrategy:
    return st.one_of(st.none(), st.booleans(), _ints(), tricky_text())


_SCALARS: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "int": _ints,
    "float": _floats,
    "bool": st.booleans,
    "datetime": _datetimes,
    "date": lambda: st.dates().map(lambda d: d.isoformat()),
    "any": _any,
}
