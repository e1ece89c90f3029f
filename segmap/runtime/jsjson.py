"""JSON text exactly as JavaScript's ``JSON.stringify`` writes it.

segmap has two targets: the Python runtime, whose output is serialised with
orjson, and the exported JS handler, whose output Svix serialises with
``JSON.stringify``. Both must send Segment the same bytes
(docs/export-js.md, "Numbers and strings"). Strings already agree (orjson and
``JSON.stringify`` escape exactly the same characters); numbers do not:

* orjson keeps ``.0`` on whole floats (``9007.0``) and prints ``-0.0``;
  ``JSON.stringify`` prints ``9007`` and ``0``;
* orjson writes exponents in [1e-6, 1e-5) and [1e16, 1e21) (``5e-6``,
  ``1e+16``) where JavaScript writes positional digits (``0.000005``,
  ``10000000000000000``);
* an integer beyond 2**53 is exact in Python and the nearest double in
  JavaScript (``JSON.parse`` rounds it), printed with JavaScript's shortest
  digits padded with zeros.

So every number that reaches an output goes through :func:`js_number`
first: whole floats below 2**53 become ints, and the rare doubles orjson
would print differently become :class:`JSNumber`, a float whose JSON text
:func:`default` supplies (an ``orjson.Fragment``). Values built that way are
printed by :func:`dumps` with orjson at full speed; generated code applies
:func:`js_value` to every value it passes through from the envelope.
"""
from __future__ import annotations

from typing import Any

from segmap.runtime.values import MISSING, MappingRuntimeError

_TWO53 = 2**53
_F53 = float(2**53)


class JSNumber(float):
    """A double that orjson would print differently from ``JSON.stringify``.

    It is an ordinary float for Python code; :func:`default` gives orjson its
    JavaScript text. Only :func:`js_number` makes them.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[type, tuple[float]]:
        return (float, (float(self),))


def finite_number_text(x: float) -> str:
    """JavaScript's ``String(x)`` (and ``JSON.stringify``) of a finite double.

    ``repr`` already gives the shortest round-trip digits, as ECMAScript's
    Number::toString requires; only the layout (where the point and exponent
    go) differs. The run-time functions (`string`, templates) use it too.
    """
    if x == 0.0:
        return "0"
    r = repr(x)
    sign = ""
    if r[0] == "-":
        sign = "-"
        r = r[1:]
    mant, _, exp = r.partition("e")
    ip, _, fp = mant.partition(".")
    raw = ip + fp
    point = len(ip) + (int(exp) if exp else 0)
    stripped = raw.lstrip("0")
    point -= len(raw) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    n = point
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    es = f"e+{e}" if e >= 0 else f"e-{-e}"
    if k == 1:
        return sign + digits + es
    return sign + digits[0] + "." + digits[1:] + es


def number_text(x: int | float) -> str:
    """``JSON.stringify(x)`` for a number JavaScript would hold as the double nearest ``x``.

    ``repr`` already gives the shortest round-trip digits (as ECMAScript's
    Number::toString requires); only the layout differs. Non-finite numbers
    are ``null``, as in JavaScript.
    """
    if x.__class__ is int:
        if -_TWO53 < x < _TWO53:
            return str(x)
        try:
            x = float(x)
        except OverflowError:
            return "null"
    x = float(x)
    if x - x != 0.0:
        return "null"
    return finite_number_text(x)


def js_number(x: int | float) -> Any:
    """``x`` as a value orjson prints exactly as ``JSON.stringify`` prints the double JS holds.

    Ints below 2**53 and most floats come back unchanged; whole floats below
    2**53 become ints (``-0.0`` becomes ``0``); larger ints become the nearest
    double (an int too large for a double is ``Infinity`` in JavaScript, which
    JSON writes as ``null``); doubles in the ranges where orjson's layout
    differs become :class:`JSNumber`.
    """
    if x.__class__ is int:
        if -_TWO53 < x < _TWO53:
            return x
        try:
            x = float(x)
        except OverflowError:
            return None
    elif x.__class__ is JSNumber:
        return x
    a = x if x >= 0.0 else -x
    if a < _F53:
        if a >= 1e-5 or a < 1e-6:
            i = int(x)
            return i if i == x else x
        return JSNumber(x)
    if a < 1e21:
        return JSNumber(x)
    return x  # 1e+21 and beyond: both write the same exponent form; inf/nan: null in both


def _js_key_order(d: dict[Any, Any]) -> dict[Any, Any] | None:
    """A copy of ``d`` in JavaScript's property order when it differs from Python's, else None.

    JavaScript lists integer-like keys ("0", "7", "42"; canonical array
    indexes below 2**32 - 1) first, in ascending order, then the others in
    insertion order.
    """
    idx = []
    for k in d:
        if k.__class__ is str and k[:1].isdigit() and k.isascii() and k.isdigit() and (k == "0" or k[0] != "0") and int(k) < 4294967295:
            idx.append(k)
    if not idx:
        return None
    ordered = sorted(idx, key=int)
    rest = [k for k in d if k not in set(idx)]
    keys = ordered + rest
    if keys == list(d):
        return None
    return {k: d[k] for k in keys}


def js_value(x: Any) -> Any:
    """``x`` (a JSON value, or MISSING) with every number made printable by :func:`js_number`,
    and every object in JavaScript's key order; ``x`` itself when nothing changes."""
    c = x.__class__
    if c is str or c is bool or x is None or x is MISSING:
        return x
    if c is int:
        return x if -_TWO53 < x < _TWO53 else js_number(x)
    if c is float:
        a = x if x >= 0.0 else -x
        if 1e-5 <= a < _F53:  # js_number's common case, without the second call
            i = int(x)
            return i if i == x else x
        return js_number(x)
    if c is dict:
        out = None
        for k, v in x.items():
            vc = v.__class__
            if vc is str or vc is bool or v is None:
                continue
            nv = js_value(v)
            if nv is not v:
                if out is None:
                    out = dict(x)
                out[k] = nv
        src = x if out is None else out
        reordered = _js_key_order(src)
        if reordered is not None:
            return reordered
        return src
    if c is list:
        out_l = None
        for i, v in enumerate(x):
            vc = v.__class__
            if vc is str or vc is bool or v is None:
                continue
            nv = js_value(v)
            if nv is not v:
                if out_l is None:
                    out_l = list(x)
                out_l[i] = nv
        return x if out_l is None else out_l
    return x


def default(obj: Any) -> Any:
    """orjson's ``default``: the JavaScript text of a :class:`JSNumber`."""
    if obj.__class__ is JSNumber:
        import orjson

        return orjson.Fragment(number_text(obj).encode("ascii"))
    raise TypeError(f"{type(obj).__name__} is not a JSON value")


class EncodeError(MappingRuntimeError):
    """A value cannot be written as JSON (a lone UTF-16 surrogate, or not a JSON value)."""


def dumps(value: Any, *, normalized: bool = False) -> bytes:
    """UTF-8 JSON text of ``value``, byte for byte what ``JSON.stringify`` gives for it in JavaScript.

    ``normalized=True`` promises that ``value`` came from generated code (or
    :func:`js_value`) and skips the walk. A string holding a lone UTF-16
    surrogate cannot be written as UTF-8 and raises :class:`EncodeError`: both
    targets refuse such envelopes before mapping them.
    """
    import orjson

    if not normalized:
        value = js_value(value)
    try:
        return orjson.dumps(value, default=default, option=orjson.OPT_STRICT_INTEGER)
    except orjson.JSONEncodeError as exc:
        text = str(exc)
        if "surrogate" in text:
            raise EncodeError(LONE_SURROGATE_OUT) from None
        raise EncodeError(f"cannot be written as JSON: {text}") from None


#: The message both targets give for an envelope holding a lone UTF-16 surrogate.
LONE_SURROGATE = "the envelope is not valid JSON: a string holds a lone UTF-16 surrogate"
#: The message both targets give for a call body holding one (from a string of the mapping).
LONE_SURROGATE_OUT = "a call body holds a lone UTF-16 surrogate, which JSON text in UTF-8 cannot carry"
#: The message both targets give for an envelope holding a number beyond the doubles.
NUMBER_OUT_OF_RANGE = "the envelope is not valid JSON: a number is too large for a double"
