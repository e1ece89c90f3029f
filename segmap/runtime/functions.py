"""Run-time library for generated Python: mapping functions and operators.

Stage contract: generated code calls these with already evaluated
arguments (values of :mod:`segmap.runtime.values`: JSON values plus
``MISSING``) and gets a value back, or a :class:`MappingRuntimeError`.
Each helper has a JavaScript twin in ``segmap/compiler/js_runtime.js``
(``__sm_<name>``) and both must agree on every input: same JSON result,
or both fail. The registry in :mod:`segmap.compiler.functions` describes
every helper (arity, kinds, null behaviour, documentation, examples).

Numbers follow JavaScript: a number is a double, so every number a helper
produces goes through :func:`num` (integral floats below 2**53 become
``int``, ints at or above 2**53 become ``float``, NaN and infinities are
errors). ``bool`` is never a number even though Python makes it an ``int``.

Null handling, unless a helper says otherwise: MISSING in the first
argument gives MISSING and None gives None.

These run once per webhook per expression, so type tests are
``type(x) is int`` rather than ``isinstance`` chains, and all tables are
module constants.
"""
# The helpers take JSON values typed Any; their return annotations state the
# JSON kind they produce, which mypy cannot infer through Any.
# mypy: disable-error-code="no-any-return"
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from segmap.runtime.currency import EXPONENTS
from segmap.runtime.jsjson import finite_number_text
from segmap.runtime.values import MISSING, MappingRuntimeError, type_name

_TWO53 = 2**53
_F53 = float(2**53)
_INF = math.inf


def _fail(message: str) -> MappingRuntimeError:
    return MappingRuntimeError(message)


# --- numbers ---------------------------------------------------------------

def num(x: Any) -> int | float:
    """Normalise a number to what JavaScript would hold and JSON would show.

    ints with ``|x| < 2**53`` stay; larger ints become the nearest float
    (as ``JSON.parse`` would make them); integral floats below 2**53 become
    ints (so ``1.0`` prints as ``1``; ``-0.0`` becomes ``0``); NaN and
    infinities raise :class:`MappingRuntimeError`. Anything that is not a
    number (including bool) raises too.
    """
    t = type(x)
    if t is int:
        if -_TWO53 < x < _TWO53:
            return x
        try:
            return float(x)
        except OverflowError:
            raise _fail("number out of range") from None
    if t is float:
        if -_F53 < x < _F53:
            i = int(x)
            return i if i == x else x
        if x - x == 0.0:  # finite: inf - inf and nan - nan are nan
            return x
        raise _fail("arithmetic result is not a finite number")
    raise _fail(f"expected a number, got {type_name(x)}")


def _f(x: int | float) -> float:
    """A number as the double JavaScript holds (huge ints overflow to inf)."""
    try:
        return float(x)
    except OverflowError:
        return _INF if x > 0 else -_INF


def _num_to_string(x: Any) -> str:
    if type(x) is int:
        if -_TWO53 < x < _TWO53:
            return str(x)
        x = _f(x)
    if -_F53 < x < _F53:
        if x.is_integer():
            return str(int(x))
        r = repr(x)
        if "e" not in r:
            # 1e-4 <= |x| < 1e16: repr is positional and JS is too.
            return r
        return finite_number_text(x)
    if x - x != 0.0:
        raise _fail("number is not finite")
    return finite_number_text(x)


# --- arithmetic operators --------------------------------------------------

def add(a: Any, b: Any) -> Any:
    """``a + b``: numbers add, two strings concatenate.

    MISSING in either operand gives MISSING, else None gives None; any other
    mix is an error.
    """
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int and -_TWO53 < a < _TWO53 and -_TWO53 < b < _TWO53:
        r = a + b
        return r if -_TWO53 < r < _TWO53 else float(r)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return num(_f(a) + _f(b))
    if ta is str and tb is str:
        return a + b
    if a is MISSING or b is MISSING:
        return MISSING
    if a is None or b is None:
        return None
    raise _fail(f"cannot add {type_name(a)} and {type_name(b)}")


def _arith_other(a: Any, b: Any, verb: str) -> Any:
    if a is MISSING or b is MISSING:
        return MISSING
    if a is None or b is None:
        return None
    raise _fail(f"cannot {verb} {type_name(a)} and {type_name(b)}")


def sub(a: Any, b: Any) -> Any:
    """``a - b`` on numbers; MISSING/None propagate as for :func:`add`."""
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int and -_TWO53 < a < _TWO53 and -_TWO53 < b < _TWO53:
        r = a - b
        return r if -_TWO53 < r < _TWO53 else float(r)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return num(_f(a) - _f(b))
    return _arith_other(a, b, "subtract")


def mul(a: Any, b: Any) -> Any:
    """``a * b`` on numbers; MISSING/None propagate as for :func:`add`."""
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int and -_TWO53 < a < _TWO53 and -_TWO53 < b < _TWO53:
        # The exact product rounded once is what IEEE multiplication gives.
        r = a * b
        return r if -_TWO53 < r < _TWO53 else float(r)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return num(_f(a) * _f(b))
    return _arith_other(a, b, "multiply")


def div(a: Any, b: Any) -> Any:
    """``a / b`` on numbers (always true division); ``b == 0`` is an error."""
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        if b == 0:
            raise _fail("division by zero")
        if ta is int and tb is int and -_TWO53 < a < _TWO53 and -_TWO53 < b < _TWO53:
            # int / int is correctly rounded, like the double division.
            return num(a / b)
        return num(_f(a) / _f(b))
    return _arith_other(a, b, "divide")


def mod(a: Any, b: Any) -> Any:
    """``a % b`` with JavaScript semantics: the result has the dividend's sign
    (``-7 % 3 == -1``, unlike Python's ``%``); ``b == 0`` is an error."""
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        if b == 0:
            raise _fail("modulo by zero")
        if ta is int and tb is int and -_TWO53 < a < _TWO53 and -_TWO53 < b < _TWO53:
            r = abs(a) % abs(b)
            return -r if a < 0 else r
        return num(math.fmod(_f(a), _f(b)))
    return _arith_other(a, b, "take the remainder of")


def neg(a: Any) -> Any:
    """Unary minus on a number; MISSING/None propagate."""
    ta = type(a)
    if ta is int:
        return -a if -_TWO53 < a < _TWO53 else num(-_f(a))
    if ta is float:
        return num(-a)
    if a is MISSING or a is None:
        return a
    raise _fail(f"cannot negate {type_name(a)}")


# --- comparison operators --------------------------------------------------

def _cmp_fail(a: Any, b: Any) -> MappingRuntimeError:
    return _fail(f"cannot compare {type_name(a)} and {type_name(b)}")


def lt(a: Any, b: Any) -> bool:
    """``a < b``: two numbers, or two strings by Unicode code point.

    MISSING or None on either side gives False; other mixes are errors.
    """
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        if -_TWO53 < a < _TWO53 and -_TWO53 < b < _TWO53:
            return a < b
        return _f(a) < _f(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return _f(a) < _f(b)
    if ta is str and tb is str:
        return a < b
    if a is None or b is None or a is MISSING or b is MISSING:
        return False
    raise _cmp_fail(a, b)


def le(a: Any, b: Any) -> bool:
    """``a <= b``; see :func:`lt`."""
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        if -_TWO53 < a < _TWO53 and -_TWO53 < b < _TWO53:
            return a <= b
        return _f(a) <= _f(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return _f(a) <= _f(b)
    if ta is str and tb is str:
        return a <= b
    if a is None or b is None or a is MISSING or b is MISSING:
        return False
    raise _cmp_fail(a, b)


def gt(a: Any, b: Any) -> bool:
    """``a > b``; see :func:`lt`."""
    return lt(b, a)


def ge(a: Any, b: Any) -> bool:
    """``a >= b``; see :func:`lt`."""
    return le(b, a)


def eq(a: Any, b: Any) -> bool:
    """``a == b``: deep JSON equality.

    MISSING counts as None; ``1 == 1.0``; ``true != 1``; object key order is
    irrelevant and an object member whose value is MISSING counts as absent
    (it would not be serialised); inside lists MISSING counts as None.
    """
    if a is MISSING:
        a = None
    if b is MISSING:
        b = None
    ta = type(a)
    tb = type(b)
    if ta is str:
        return tb is str and a == b
    if ta is int or ta is float:
        if tb is int or tb is float:
            if ta is int and tb is int and -_TWO53 < a < _TWO53 and -_TWO53 < b < _TWO53:
                return a == b
            return _f(a) == _f(b)
        return False
    if a is None:
        return b is None
    if ta is bool:
        return a is b
    if ta is list or ta is dict:
        return a is b or _eq_deep(a, b)  # `a is b`: as JavaScript's `===` shortcut
    raise _fail(f"cannot compare {type_name(a)}")


_COUNT = object()  # a work item of _eq_deep: "now compare the member counts"


def _eq_deep(a: Any, b: Any) -> bool:
    """:func:`eq` of two values at least one of which is a list or object, with an explicit stack:
    an envelope nested deeper than Python's recursion limit (JSON allows it, and JavaScript
    compares it) must not fail. Items are compared in the order the recursive definition would."""
    todo: list[tuple[Any, Any]] = [(a, b)]
    pop = todo.pop
    push = todo.append
    while todo:
        a, b = pop()
        if a is _COUNT:
            count, b = b
            if count != len(b) and count != sum(1 for w in b.values() if w is not MISSING):
                return False
            continue
        if a is MISSING:
            a = None
        if b is MISSING:
            b = None
        ta = type(a)
        if ta is list:
            if type(b) is not list or len(a) != len(b):
                return False
            if a is not b:
                todo.extend(zip(reversed(a), reversed(b)))
            continue
        if ta is dict:
            if type(b) is not dict:
                return False
            if a is b:
                continue
            pairs = []
            for k, v in a.items():
                if v is MISSING:
                    continue
                w = b.get(k, MISSING)
                if w is MISSING:
                    return False
                pairs.append((v, w))
            push((_COUNT, (len(pairs), b)))
            pairs.reverse()
            todo.extend(pairs)
            continue
        if not eq(a, b):  # a scalar (or something that is not JSON: eq raises)
            return False
    return True


def ne(a: Any, b: Any) -> bool:
    """``a != b``: ``not eq(a, b)``."""
    return not eq(a, b)


def truth(x: Any) -> bool:
    """The truth of a condition (``when:``, ``if``, ``and``, ``or``, ``not``).

    A bool is itself, MISSING and None are False, anything else is an error
    (no truthiness of numbers or strings).
    """
    if x is True or x is False:
        return x
    if x is None or x is MISSING:
        return False
    raise _fail(f"condition must be a boolean, got {type_name(x)}")


def index(x: Any, i: Any) -> Any:
    """``x[i]``: list element or object member, MISSING when there is none.

    A list takes an integer-valued number (negative counts from the end), an
    object takes a string. Out of range, absent member, MISSING/None
    container and every other combination give MISSING (the checker reports
    ill-typed combinations statically).
    """
    tx = type(x)
    if tx is dict:
        if type(i) is str:
            return x.get(i, MISSING)
        return MISSING
    if tx is list:
        ti = type(i)
        if ti is float:
            if not i.is_integer():
                return MISSING
            i = int(i)
        elif ti is not int:
            return MISSING
        n = len(x)
        if i < 0:
            i += n
        if 0 <= i < n:
            return x[i]
        return MISSING
    return MISSING


# --- money -----------------------------------------------------------------

_POW10 = (1, 10, 100, 1000)


def _currency_exponent(currency: Any) -> int:
    if type(currency) is str:
        e = EXPONENTS.get(currency)
        if e is not None:
            return e
        raise _fail(f"unknown currency code {currency!r}")
    raise _fail(f"currency must be a string, got {type_name(currency)}")


def to_major(amount: Any, currency: Any) -> Any:
    """Minor units -> major units with the ISO 4217 exponent of ``currency``.

    Float division, like JavaScript's ``amount / Math.pow(10, e)``: for
    ``|amount| < 2**53`` Python's int / int is the correctly rounded
    quotient, which is what the double division gives.
    """
    ta = type(amount)
    if ta is int:
        e = EXPONENTS.get(currency) if type(currency) is str else None
        if e is None:
            e = _currency_exponent(currency)  # raises
        if -_TWO53 < amount < _TWO53:
            if e == 0:
                return amount
            r = amount / _POW10[e]
            i = int(r)
            return i if i == r else r
        return num(_f(amount) / _POW10[e])
    if ta is float:
        if not amount.is_integer():
            raise _fail(f"amount must be a whole number of minor units, got {_num_to_string(amount)}")
        e = _currency_exponent(currency)
        return num(amount / _POW10[e])
    if amount is MISSING or amount is None:
        return amount
    raise _fail(f"amount must be a number, got {type_name(amount)}")


def decimals(currency: Any) -> Any:
    """The ISO 4217 exponent (0, 2 or 3) of a Dodo currency code."""
    if currency is MISSING or currency is None:
        return currency
    return _currency_exponent(currency)


# --- number formatting -----------------------------------------------------

# Enough precision for 21 integer digits plus 100 fraction digits.
_FIXED_CONTEXT = Context(prec=160, rounding=ROUND_HALF_UP)
_QUANTUM = tuple(Decimal(1).scaleb(-d) for d in range(101))
_ZEROS = tuple("0." + "0" * d if d else "0" for d in range(101))
_POINT_ZEROS = tuple("." + "0" * d if d else "" for d in range(101))


def _digits(digits: Any) -> int:
    t = type(digits)
    if t is int:
        if 0 <= digits <= 100:
            return digits
    elif t is float:
        if digits.is_integer() and 0 <= digits <= 100:
            return int(digits)
    else:
        raise _fail(f"digits must be a number, got {type_name(digits)}")
    raise _fail(f"digits must be an integer from 0 to 100, got {_num_to_string(digits)}")


def fixed(x: Any, digits: Any) -> Any:
    """JavaScript ``x.toFixed(digits)``: exact decimal expansion of the double,
    ties away from zero, ``String(x)`` when ``|x| >= 1e21``."""
    tx = type(x)
    if tx is int:
        d = _digits(digits)
        if -_TWO53 < x < _TWO53:
            return str(x) + _POINT_ZEROS[d]
        x = _f(x)
    elif tx is float:
        d = _digits(digits)
    elif x is MISSING or x is None:
        return x
    else:
        raise _fail(f"fixed() needs a number, got {type_name(x)}")
    if x - x != 0.0:
        raise _fail("number is not finite")
    if x >= 1e21 or x <= -1e21:
        return finite_number_text(x)
    if x == 0.0:
        return _ZEROS[d]  # toFixed gives "0.00" for -0 too (-0 < 0 is false)
    # Python's "f" format rounds the exact binary value correctly but ties to even;
    # toFixed ties away from zero. A double m / 2**j (m odd) has exactly j
    # fraction digits, the last one 5, so it is a tie at d digits iff
    # j == d + 1: only then take the exact Decimal route.
    if x.as_integer_ratio()[1].bit_length() == d + 2:
        q = Decimal(x).quantize(_QUANTUM[d], context=_FIXED_CONTEXT)
        return format(q, "f")
    return f"{x:.{d}f}"


def round_(x: Any, digits: Any) -> Any:
    """JavaScript ``Number(x.toFixed(digits))``, normalised."""
    tx = type(x)
    if tx is int and -_TWO53 < x < _TWO53:
        _digits(digits)
        return x
    if x is MISSING or x is None:
        return x
    s = fixed(x, digits)
    return num(float(s))


# --- strings ---------------------------------------------------------------

# ECMAScript WhiteSpace + LineTerminator: what String.prototype.trim removes.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def _ranges(pairs: list[tuple[int, int, int]]) -> dict[int, int]:
    table: dict[int, int] = {}
    for first, last, delta in pairs:
        for c in range(first, last + 1):
            table[c] = c + delta
    return table


# Case pairs JavaScript knows (Unicode 17, node 20 / ICU 78) that this
# Python's unicodedata (14.0) does not. Found by comparing every code point
# against node; tests/runtime re-checks them.
_LOWER_EXTRA: dict[int, int] = {
    0x1C89: 0x1C8A, 0xA7CB: 0x0264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF,
    0xA7D2: 0xA7D3, 0xA7D4: 0xA7D5, 0xA7DA: 0xA7DB, 0xA7DC: 0x019B,
    **_ranges([(0x10D50, 0x10D65, 0x20), (0x16EA0, 0x16EB8, 0x1B)]),
}
_UPPER_EXTRA: dict[int, int] = {v: k for k, v in _LOWER_EXTRA.items()}


def _char_class(codes: Iterable[int]) -> Any:
    """The ``search`` of a regex matching any of ``codes`` (or a mapping's keys; as ranges:
    a class of ranges is much faster than one of single characters)."""
    parts = []
    run: list[int] = []
    for c in sorted(codes):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            parts.append((run[0], run[-1]))
        run = [c]
    parts.append((run[0], run[-1]))
    cls = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in parts
    )
    return re.compile(f"[{cls}]").search


_LOWER_EXTRA_SEARCH = _char_class(_LOWER_EXTRA)
_UPPER_EXTRA_SEARCH = _char_class(_UPPER_EXTRA)

# lower() of capital sigma depends on its neighbours (Final_Sigma: "ς" after
# a cased letter, skipping Case_Ignorable characters, unless a cased letter
# follows). Python's tables miss these Unicode 17 properties: characters
# that are Cased (and not Case_Ignorable), characters that are
# Case_Ignorable, and two whose Python 14 property no longer holds (U+0295
# is no longer Cased, U+1171E no longer Case_Ignorable). From node's
# /\p{Cased}/u and /\p{Case_Ignorable}/u over code points Python does not know.
_U17_CASED = (
    (0x1C89, 0x1C8A), (0xA7CB, 0xA7CF), (0xA7D2, 0xA7D2), (0xA7D4, 0xA7D4), (0xA7DA, 0xA7DC),
    (0x10D50, 0x10D65), (0x10D70, 0x10D85), (0x16EA0, 0x16EB8), (0x16EBB, 0x16ED3),
    (0x1DF25, 0x1DF2A),
)
_U17_CASE_IGNORABLE = (
    (0x0897, 0x0897), (0x0ECE, 0x0ECE), (0x1ACF, 0x1ADD), (0x1AE0, 0x1AEB), (0xA7F1, 0xA7F1),
    (0x10D4E, 0x10D4E), (0x10D69, 0x10D6D), (0x10D6F, 0x10D6F), (0x10EC5, 0x10EC5),
    (0x10EFA, 0x10EFF), (0x11241, 0x11241), (0x113BB, 0x113C0), (0x113CE, 0x113CE),
    (0x113D0, 0x113D0), (0x113D2, 0x113D2), (0x113E1, 0x113E2), (0x11B60, 0x11B60),
    (0x11B62, 0x11B64), (0x11B66, 0x11B66), (0x11DD9, 0x11DD9), (0x11F00, 0x11F01),
    (0x11F36, 0x11F3A), (0x11F40, 0x11F40), (0x11F42, 0x11F42), (0x11F5A, 0x11F5A),
    (0x13439, 0x13440), (0x13447, 0x13455), (0x1611E, 0x16129), (0x1612D, 0x1612F),
    (0x16D40, 0x16D42), (0x16D6B, 0x16D6C), (0x16FF2, 0x16FF3), (0x1E030, 0x1E06D),
    (0x1E08F, 0x1E08F), (0x1E4EB, 0x1E4EF), (0x1E5EE, 0x1E5EF), (0x1E6E3, 0x1E6E3),
    (0x1E6E6, 0x1E6E6), (0x1E6EE, 0x1E6EF), (0x1E6F5, 0x1E6F5), (0x1E6FF, 0x1E6FF),
)
_U17_NEITHER = (0x0295, 0x1171E)


def _expand(ranges: tuple[tuple[int, int], ...]) -> frozenset[str]:
    return frozenset(chr(c) for a, b in ranges for c in range(a, b + 1))


_SIGMA_CASED = _expand(_U17_CASED)
_SIGMA_IGNORABLE = _expand(_U17_CASE_IGNORABLE)
_SIGMA_NEITHER = frozenset(map(chr, _U17_NEITHER))
_SIGMA_SPECIAL_SEARCH = _char_class(
    dict.fromkeys(ord(c) for c in _SIGMA_CASED | _SIGMA_IGNORABLE | _SIGMA_NEITHER)
)


def _case_ignorable(c: str) -> bool:
    if c in _SIGMA_IGNORABLE:
        return True
    if c in _SIGMA_CASED or c in _SIGMA_NEITHER:
        return False
    # Ask Python's own tables: "AcΣ" ends in ς iff c is skipped or cased,
    # "cΣ" iff c is cased and not skipped.
    return ("A" + c + "\u03a3").lower()[-1] == "\u03c2" and (c + "\u03a3").lower()[-1] != "\u03c2"


def _cased(c: str) -> bool:
    """Cased, for a character that is not Case_Ignorable."""
    if c in _SIGMA_CASED:
        return True
    if c in _SIGMA_NEITHER:
        return False
    return (c + "\u03a3").lower()[-1] == "\u03c2"


def _lower_final_sigma(s: str) -> str:
    """lower() for a string with capital sigma next to characters whose
    casing properties Python's tables lack: the sigma context by hand (the
    only context-dependent lower-case mapping), everything else per piece."""
    out = []
    start = 0
    n = len(s)
    i = s.find("\u03a3")
    while i >= 0:
        out.append(s[start:i].translate(_LOWER_EXTRA).lower())
        j = i - 1
        while j >= 0 and _case_ignorable(s[j]):
            j -= 1
        final = j >= 0 and _cased(s[j])
        if final:
            j = i + 1
            while j < n and _case_ignorable(s[j]):
                j += 1
            final = j == n or not _cased(s[j])
        out.append("\u03c2" if final else "\u03c3")
        start = i + 1
        i = s.find("\u03a3", start)
    out.append(s[start:].translate(_LOWER_EXTRA).lower())
    return "".join(out)


def _string_fail(fn: str, x: Any) -> MappingRuntimeError:
    return _fail(f"{fn}() needs a string, got {type_name(x)}")


def lower(s: Any) -> Any:
    """JavaScript ``s.toLowerCase()`` (locale-independent, full mapping)."""
    if type(s) is str:
        if s.isascii():
            return s.lower()
        if "\u03a3" in s and _SIGMA_SPECIAL_SEARCH(s) is not None:
            return _lower_final_sigma(s)
        if _LOWER_EXTRA_SEARCH(s) is None:
            return s.lower()
        # Map the characters Python's tables lack first; their targets are
        # already lower case, so str.lower() leaves them alone.
        return s.translate(_LOWER_EXTRA).lower()
    if s is MISSING or s is None:
        return s
    raise _string_fail("lower", s)


def upper(s: Any) -> Any:
    """JavaScript ``s.toUpperCase()`` (locale-independent, full mapping)."""
    if type(s) is str:
        if s.isascii() or _UPPER_EXTRA_SEARCH(s) is None:
            return s.upper()
        return s.translate(_UPPER_EXTRA).upper()
    if s is MISSING or s is None:
        return s
    raise _string_fail("upper", s)


def trim(s: Any) -> Any:
    """JavaScript ``s.trim()``: strips the ECMAScript whitespace set."""
    if type(s) is str:
        return s.strip(JS_WHITESPACE)
    if s is MISSING or s is None:
        return s
    raise _string_fail("trim", s)


def length(x: Any) -> Any:
    """Items of a list, or code points of a string."""
    t = type(x)
    if t is str or t is list:
        return len(x)
    if x is MISSING or x is None:
        return x
    raise _fail(f"length() needs a list or a string, got {type_name(x)}")


def join(items: Any, sep: Any) -> Any:
    """Join a list of strings with ``sep``."""
    if type(items) is list:
        if type(sep) is not str:
            raise _fail(f"join() separator must be a string, got {type_name(sep)}")
        for item in items:
            if type(item) is not str:
                raise _fail(f"join() items must be strings, got {type_name(item)}")
        return sep.join(items)
    if items is MISSING or items is None:
        return items
    raise _fail(f"join() needs a list, got {type_name(items)}")


# --- text and lists --------------------------------------------------------

def _slice_index(i: Any, n: int, what: str) -> int:
    """JavaScript's relative index of ``slice``: the integer part, negative
    counting from the end, clamped to ``0..n``."""
    ti = type(i)
    if ti is float:
        i = math.trunc(i) if math.isfinite(i) else (n if i > 0 else -n)
    elif ti is not int:
        raise _fail(f"slice() {what} must be a number, got {type_name(i)}")
    if i < 0:
        return max(n + i, 0)
    return min(i, n)


def slice_(x: Any, start: Any, end: Any = MISSING) -> Any:
    """JavaScript ``x.slice(start, end)`` for a string (by code point) or a list."""
    t = type(x)
    if t is str or t is list:
        n = len(x)
        a = _slice_index(start, n, "start")
        b = n if end is MISSING else _slice_index(end, n, "end")
        return x[a:b] if a < b else x[:0]
    if x is MISSING or x is None:
        return x
    raise _fail(f"slice() needs a string or a list, got {type_name(x)}")


def _text_arg(fn: str, what: str, v: Any) -> str:
    if type(v) is not str:
        raise _fail(f"{fn}() {what} must be a string, got {type_name(v)}")
    return v


def split(s: Any, sep: Any) -> Any:
    """JavaScript ``s.split(sep)`` with a plain-text separator; an empty
    separator splits into code points."""
    if type(s) is str:
        if _text_arg("split", "separator", sep):
            return s.split(sep)
        return list(s)
    if s is MISSING or s is None:
        return s
    raise _string_fail("split", s)


def replace(s: Any, find: Any, with_: Any) -> Any:
    """JavaScript ``s.replaceAll(find, with)`` for plain text: every
    occurrence, left to right, and ``$`` in ``with`` is just a dollar."""
    if type(s) is str:
        return s.replace(_text_arg("replace", "search text", find), _text_arg("replace", "replacement", with_))
    if s is MISSING or s is None:
        return s
    raise _string_fail("replace", s)


def starts_with(s: Any, prefix: Any) -> Any:
    """JavaScript ``s.startsWith(prefix)``."""
    if type(s) is str:
        return s.startswith(_text_arg("starts_with", "prefix", prefix))
    if s is MISSING or s is None:
        return s
    raise _string_fail("starts_with", s)


def ends_with(s: Any, suffix: Any) -> Any:
    """JavaScript ``s.endsWith(suffix)``."""
    if type(s) is str:
        return s.endswith(_text_arg("ends_with", "suffix", suffix))
    if s is MISSING or s is None:
        return s
    raise _string_fail("ends_with", s)


def contains(x: Any, item: Any) -> Any:
    """Text: JavaScript ``x.includes(item)``; a list: whether an element
    equals ``item`` by ``==`` (deep JSON equality)."""
    t = type(x)
    if t is str:
        return _text_arg("contains", "search text", item) in x
    if t is list:
        for v in x:
            if eq(v, item):
                return True
        return False
    if x is MISSING or x is None:
        return x
    raise _fail(f"contains() needs a string or a list, got {type_name(x)}")


def sum_(items: Any) -> Any:
    """The sum of a list of numbers, added left to right in doubles (as a
    JavaScript loop would); 0 for an empty list."""
    if type(items) is list:
        acc = 0.0
        for v in items:
            tv = type(v)
            if tv is not int and tv is not float:
                raise _fail(f"sum() items must be numbers, got {type_name(v)}")
            try:
                acc += v
            except OverflowError:
                raise _fail("number out of range") from None
        return num(acc)
    if items is MISSING or items is None:
        return items
    raise _fail(f"sum() needs a list, got {type_name(items)}")


def first(items: Any) -> Any:
    """The first item of a list; missing for an empty list."""
    if type(items) is list:
        return items[0] if items else MISSING
    if items is MISSING or items is None:
        return items
    raise _fail(f"first() needs a list, got {type_name(items)}")


def last(items: Any) -> Any:
    """The last item of a list; missing for an empty list."""
    if type(items) is list:
        return items[-1] if items else MISSING
    if items is MISSING or items is None:
        return items
    raise _fail(f"last() needs a list, got {type_name(items)}")



# --- conversions -----------------------------------------------------------

def string(x: Any) -> Any:
    """JavaScript ``String(x)`` for scalars: None -> "null", MISSING stays."""
    t = type(x)
    if t is str:
        return x
    if t is int or t is float:
        return _num_to_string(x)
    if x is True:
        return "true"
    if x is False:
        return "false"
    if x is None:
        return "null"
    if x is MISSING:
        return MISSING
    raise _fail(f"cannot convert {type_name(x)} to a string")


def template_part(x: Any) -> str:
    """How ``{x}`` renders inside a string template: MISSING/None -> ""."""
    t = type(x)
    if t is str:
        return x
    if t is int or t is float:
        return _num_to_string(x)
    if x is None or x is MISSING:
        return ""
    if x is True:
        return "true"
    if x is False:
        return "false"
    raise _fail(f"cannot insert {type_name(x)} into a string template")


# Optional sign, digits with an optional point (or a point and digits),
# optional exponent; surrounding JS whitespace is ignored.
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIGITS_AND_POINT = "0123456789."


def number(x: Any) -> Any:
    """A number from a number or a decimal string (strict)."""
    t = type(x)
    if t is int or t is float:
        return num(x)
    if t is str:
        # the common case first: ASCII digits with at most one point (what the expression below
        # accepts without sign, whitespace or exponent), checked without the regex; num() inlined
        if x and not x.strip(_DIGITS_AND_POINT) and x.count(".") <= 1 and x != ".":
            v = float(x)
            if v < _F53:
                i = int(v)
                return i if i == v else v
        s = x.strip(JS_WHITESPACE)
        if _NUMBER_RE.fullmatch(s) is not None:
            v = float(s)
            if v - v == 0.0:
                return num(v)
            raise _fail(f"number out of range: {x!r}")
        raise _fail(f"not a number: {x!r}")
    if x is MISSING or x is None:
        return x
    raise _fail(f"cannot convert {type_name(x)} to a number")


# --- coalescing ------------------------------------------------------------

def coalesce(*values: Any) -> Any:
    """The first value that is neither MISSING nor None, else the last."""
    for v in values:
        if v is not None and v is not MISSING:
            return v
    return values[-1]


def fallback(x: Any, default: Any) -> Any:
    """``default`` when ``x`` is MISSING, None or "", else ``x``."""
    if x is None or x is MISSING or x == "":
        return default
    return x


# --- time ------------------------------------------------------------------

_ISO_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r"(Z|z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_MS_PER_DAY = 86_400_000
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(y: int, m: int, d: int) -> int:
    # Howard Hinnant's algorithm, proleptic Gregorian, day 0 = 1970-01-01.
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MIN_MS = _days_from_civil(0, 1, 1) * _MS_PER_DAY
_MAX_MS = _days_from_civil(9999, 12, 31) * _MS_PER_DAY + _MS_PER_DAY - 1


def _format_ms(ms: int) -> str:
    days, rem = divmod(ms, _MS_PER_DAY)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    secs, milli = divmod(rem, 1000)
    mins, s = divmod(secs, 60)
    h, mi = divmod(mins, 60)
    return f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{milli:03d}Z"


def _time_fail(x: Any) -> MappingRuntimeError:
    return _fail(f"not an ISO-8601 timestamp: {x!r}")


def _days_in_month(y: int, mo: int) -> int:
    if mo == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        return 29
    return _MONTH_DAYS[mo]


_ISO_MATCH = _ISO_RE.fullmatch


def iso_time(x: Any) -> Any:
    """Normalise a timestamp to ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC, ms)."""
    if type(x) is str:
        m = _ISO_MATCH(x)
        if m is None:
            raise _time_fail(x)
        ys, mos, ds, hs, mis, ss, frac, zone = m.groups()
        mo = int(mos)
        d = int(ds)
        if not 0 < mo < 13 or d == 0 or (d > 28 and d > _days_in_month(int(ys), mo)):
            raise _time_fail(x)
        if hs is None:
            return f"{ys}-{mos}-{ds}T00:00:00.000Z"
        # Two ASCII digits compare as strings exactly as numbers do.
        if ss is None:
            ss = "00"
        elif ss > "59":
            raise _time_fail(x)
        if hs > "23" or mis > "59":
            raise _time_fail(x)
        milli = "000" if frac is None else (frac + "00")[:3]
        if zone is None or zone == "Z" or zone == "z":
            return f"{ys}-{mos}-{ds}T{hs}:{mis}:{ss}.{milli}Z"
        oh = zone[1:3]
        om = zone[-2:]
        if oh > "23" or om > "59":
            raise _time_fail(x)
        offset = (int(oh) * 60 + int(om)) * 60_000
        if offset == 0:
            return f"{ys}-{mos}-{ds}T{hs}:{mis}:{ss}.{milli}Z"
        ms = (
            _days_from_civil(int(ys), mo, d) * _MS_PER_DAY
            + ((int(hs) * 60 + int(mis)) * 60 + int(ss)) * 1000 + int(milli)
        )
        ms += -offset if zone[0] == "+" else offset
        if not _MIN_MS <= ms <= _MAX_MS:
            raise _fail(f"timestamp out of range (years 0000-9999): {x!r}")
        return _format_ms(ms)
    t = type(x)
    if t is int or t is float:
        p = x * 1000
        if t is float:
            # Same double product and floor as JavaScript's Math.floor(x*1000).
            if not -6.3e13 < p < 2.6e14:
                raise _fail(f"timestamp out of range (years 0000-9999): {_num_to_string(x)}")
            p = math.floor(p)
        if not _MIN_MS <= p <= _MAX_MS:
            raise _fail(f"timestamp out of range (years 0000-9999): {_num_to_string(x)}")
        return _format_ms(p)
    if x is MISSING or x is None:
        return x
    raise _fail(f"iso_time() needs a string or a number, got {type_name(x)}")


__all__ = [
    "contains",
    "ends_with",
    "first",
    "last",
    "replace",
    "slice_",
    "split",
    "starts_with",
    "sum_",
    "JS_WHITESPACE",
    "add",
    "coalesce",
    "decimals",
    "div",
    "eq",
    "fallback",
    "fixed",
    "ge",
    "gt",
    "index",
    "iso_time",
    "join",
    "le",
    "length",
    "lower",
    "lt",
    "mod",
    "mul",
    "ne",
    "neg",
    "num",
    "number",
    "round_",
    "string",
    "sub",
    "template_part",
    "to_major",
    "trim",
    "truth",
    "type_name",
    "upper",
]
