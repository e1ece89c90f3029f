"""The function registry: one entry per mapping function and operator helper.

This is the single source the checker (names, arity, argument kinds,
null behaviour), both code generators (which Python and JavaScript helper
to call), ``segmap explain`` and the README use. Each entry also carries
executable examples; the tests run every example on both targets.

Three tables, all of :class:`FunctionSpec`:

- :data:`FUNCTIONS` -- what a mapping may call, keyed by name
  (``to_major(amount, currency)``).
- :data:`OPERATORS` -- what a binary operator compiles to, keyed by its
  symbol (``"+"`` -> ``add``); :data:`UNARY_OPERATORS` for prefix ``-``.
  ``and``, ``or``, ``not``, ``if`` and ``when:`` are not helpers: the
  generators emit the short-circuit themselves and pass every operand
  through the ``truth`` helper.
- :data:`INTERNAL` -- helpers only the generators use (``truth``,
  ``index``, ``template_part``, ``num``), keyed by name.

The Python implementation of an entry is ``segmap.runtime.functions.<py>``
and its JavaScript twin is the declaration ``<js>`` in ``js_runtime.js``;
:func:`js_runtime_source` returns the declarations a handler needs,
dependencies included, in file order.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from segmap.record import Record
from segmap.runtime.values import MISSING

_set = object.__setattr__

Kind = Literal["number", "integer", "string", "bool", "any", "list", "currency", "text_or_list"]
Role = Literal["function", "operator", "internal"]
KINDS: tuple[str, ...] = ("number", "integer", "string", "bool", "any", "list", "currency", "text_or_list")


class _Raises:
    __slots__ = ()

    def __repr__(self) -> str:
        return "RAISES"


#: Expected result of an example that must fail (MappingRuntimeError / throw).
RAISES: Any = _Raises()

Example = tuple[tuple[Any, ...], Any]


class Param(Record):
    """One parameter: its name (for messages and docs) and its kind."""

    __slots__ = ("name", "kind")
    name: str
    kind: Kind

    def __init__(self, name: str, kind: Kind) -> None:
        _set(self, "name", name)
        _set(self, "kind", kind)


class FunctionSpec(Record):
    """Everything the checker, the generators and the docs know of a helper.

    ``max_arity`` is None for a variadic helper, whose last parameter
    repeats. ``propagates_missing`` / ``propagates_null``: MISSING / None as
    the first argument is returned unchanged (for operators: either
    operand, MISSING winning over None). ``examples`` pairs argument
    tuples with the expected result, :data:`RAISES` for a failure.
    """

    __slots__ = ("name", "params", "returns", "min_arity", "max_arity", "propagates_missing", "propagates_null", "doc",
                 "examples", "py", "js", "role", "symbol", "null_doc", "makes_missing")
    name: str
    params: tuple[Param, ...]
    returns: Kind
    min_arity: int
    max_arity: int | None
    propagates_missing: bool
    propagates_null: bool
    doc: str
    examples: tuple[Example, ...]
    py: str
    js: str
    role: Role
    symbol: str | None
    null_doc: str
    #: can give MISSING for arguments that are not (``first([])``)
    makes_missing: bool

    def __init__(self, *, name: str, params: tuple[Param, ...], returns: Kind, min_arity: int, max_arity: int | None,
                 propagates_missing: bool, propagates_null: bool, doc: str, examples: tuple[Example, ...], py: str,
                 js: str, role: Role = "function", symbol: str | None = None, null_doc: str = "",
                 makes_missing: bool = False) -> None:
        _set(self, "name", name)
        _set(self, "params", params)
        _set(self, "returns", returns)
        _set(self, "min_arity", min_arity)
        _set(self, "max_arity", max_arity)
        _set(self, "propagates_missing", propagates_missing)
        _set(self, "propagates_null", propagates_null)
        _set(self, "doc", doc)
        _set(self, "examples", examples)
        _set(self, "py", py)
        _set(self, "js", js)
        _set(self, "role", role)
        _set(self, "symbol", symbol)
        _set(self, "null_doc", null_doc)
        _set(self, "makes_missing", makes_missing)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def param_kinds(self) -> tuple[Kind, ...]:
        return tuple(p.kind for p in self.params)

    @property
    def variadic(self) -> bool:
        return self.max_arity is None

    @property
    def signature(self) -> str:
        """``to_major(amount: integer, currency: currency) -> number``."""
        parts = [f"{p.name}{'?' if i >= self.min_arity and not self.variadic else ''}: {p.kind}"
                 for i, p in enumerate(self.params)]
        if self.variadic:
            parts[-1] += ", ..."
        return f"{self.name}({', '.join(parts)}) -> {self.returns}"

    def kind_of_arg(self, position: int) -> Kind:
        """The kind expected at ``position`` (0-based), variadics included."""
        if position < len(self.params):
            return self.params[position].kind
        if self.variadic:
            return self.params[-1].kind
        raise IndexError(f"{self.name}() takes at most {self.max_arity} arguments")

    def accepts_arity(self, n: int) -> bool:
        return n >= self.min_arity and (self.max_arity is None or n <= self.max_arity)

    def py_callable(self) -> Callable[..., Any]:
        """The implementation in :mod:`segmap.runtime.functions` (imported here: checking needs none)."""
        from segmap.runtime import functions as run_time

        fn: Callable[..., Any] = getattr(run_time, self.py)
        return fn


def _spec(
    name: str,
    params: str,
    returns: Kind,
    doc: str,
    examples: Iterable[Example],
    *,
    propagates: str = "both",
    variadic: bool = False,
    min_arity: int | None = None,
    py: str | None = None,
    role: Role = "function",
    symbol: str | None = None,
    null_doc: str = "",
    makes_missing: bool = False,
) -> FunctionSpec:
    """Build a spec; ``params`` is ``"name:kind, name:kind"``."""
    plist = tuple(
        Param(n.strip(), k.strip())  # type: ignore[arg-type]
        for n, k in (p.split(":") for p in params.split(",") if p.strip())
    )
    for p in plist:
        assert p.kind in KINDS, (name, p)
    n = len(plist)
    return FunctionSpec(
        name=name,
        params=plist,
        returns=returns,
        min_arity=n if min_arity is None else min_arity,
        max_arity=None if variadic else n,
        propagates_missing=propagates in ("both", "missing"),
        propagates_null=propagates == "both",
        doc=" ".join(doc.split()),
        examples=tuple(examples),
        py=py or name,
        js="__sm_" + (py or name).rstrip("_"),
        role=role,
        symbol=symbol,
        null_doc=null_doc,
        makes_missing=makes_missing,
    )


_FUNCTION_LIST = (
    _spec(
        "to_major", "amount:integer, currency:currency", "number",
        """Converts an amount in minor units (what Dodo sends: cents, yen,
        fils) to major units by the currency's ISO 4217 exponent:
        `amount / 10^decimals(currency)`. The amount must be a whole number;
        the currency must be one of Dodo's 145 codes in upper case, anything
        else (including null) is an error. A null or missing amount is
        passed through.""",
        [
            ((1999, "USD"), 19.99),
            ((500, "JPY"), 500),
            ((12345, "KWD"), 12.345),
            ((0, "EUR"), 0),
            ((-250, "USD"), -2.5),
            ((1999.0, "USD"), 19.99),
            ((MISSING, "USD"), MISSING),
            ((None, "USD"), None),
            ((1999, "usd"), RAISES),
            ((1999, "XYZ"), RAISES),
            ((1999, None), RAISES),
            ((19.99, "USD"), RAISES),
            (("1999", "USD"), RAISES),
            ((True, "USD"), RAISES),
        ],
        null_doc="amount: missing → missing, null → null; a null or missing currency is an error",
    ),
    _spec(
        "decimals", "currency:currency", "integer",
        """The ISO 4217 exponent of a Dodo currency code: 0 (JPY, KRW, ...),
        3 (BHD, IQD, JOD, KWD, LYD, OMR, TND) or 2 (all others, including
        the withdrawn ANG, BGN, HRK, SLL). Unknown codes are an error.""",
        [
            (("USD",), 2),
            (("JPY",), 0),
            (("TND",), 3),
            (("HRK",), 2),
            ((MISSING,), MISSING),
            (("jpy",), RAISES),
            (("constructor",), RAISES),
            ((2,), RAISES),
        ],
    ),
    _spec(
        "fixed", "x:number, digits:integer", "string",
        """Formats a number with exactly `digits` (0-100) digits after the
        point, exactly like JavaScript `x.toFixed(digits)`: the exact binary
        value is rounded half away from zero (so `fixed(1.005, 2)` is
        `"1.00"`, because 1.005 is really 1.00499...), and numbers of
        magnitude 1e21 or more print as `String(x)`. Gives a string; use
        `round` for a number.""",
        [
            ((1.005, 2), "1.00"),
            ((2.5, 0), "3"),
            ((-2.5, 0), "-3"),
            ((0.125, 2), "0.13"),
            ((1.45, 1), "1.4"),
            ((-0.0, 2), "0.00"),
            ((-0.0001, 2), "-0.00"),
            ((1e21, 2), "1e+21"),
            ((19.99, 2), "19.99"),
            ((7, 3), "7.000"),
            ((None, 2), None),
            ((1.5, 101), RAISES),
            ((1.5, 1.5), RAISES),
            ((1.5, -1), RAISES),
            (("1.5", 2), RAISES),
        ],
    ),
    _spec(
        "round", "x:number, digits:integer", "number",
        """Rounds a number to `digits` (0-100) decimal places, as JavaScript
        `Number(x.toFixed(digits))` does: half away from zero on the exact
        binary value (`round(1.005, 2)` is 1, `round(2.5, 0)` is 3).""",
        [
            ((1.005, 2), 1),
            ((1.006, 2), 1.01),
            ((2.5, 0), 3),
            ((-2.5, 0), -3),
            ((19.999, 2), 20),
            ((42, 2), 42),
            ((-0.0001, 2), 0),
            ((MISSING, 2), MISSING),
            ((1.5, 101), RAISES),
            ((True, 0), RAISES),
        ],
        py="round_",
    ),
    _spec(
        "lower", "s:string", "string",
        """Lower-cases a string like JavaScript `s.toLowerCase()`
        (locale-independent, full Unicode case mapping, final sigma).""",
        [
            (("Hello World",), "hello world"),
            (("ÄÖÜ ΟΔΟΣ",), "äöü οδος"),
            (("İ",), "i\u0307"),
            ((None,), None),
            ((5,), RAISES),
        ],
    ),
    _spec(
        "upper", "s:string", "string",
        """Upper-cases a string like JavaScript `s.toUpperCase()`
        (locale-independent, full Unicode case mapping: `ß` becomes `SS`).""",
        [
            (("Hello",), "HELLO"),
            (("straße",), "STRASSE"),
            ((MISSING,), MISSING),
            (([],), RAISES),
        ],
    ),
    _spec(
        "trim", "s:string", "string",
        """Removes leading and trailing whitespace like JavaScript
        `s.trim()`: tab, line feed, vertical tab, form feed, carriage
        return, space, no-break space, U+1680, U+2000-U+200A, U+2028,
        U+2029, U+202F, U+205F, U+3000 and the BOM U+FEFF. Unlike Python's
        `str.strip()` it keeps U+001C-U+001F and U+0085, and removes
        U+FEFF.""",
        [
            (("  a b \n",), "a b"),
            (("\ufeff\u3000x\u2029",), "x"),
            (("\x85x\x1f",), "\x85x\x1f"),
            ((None,), None),
            ((1,), RAISES),
        ],
    ),
    _spec(
        "iso_time", "x:any", "string",
        """Normalises a timestamp to ISO-8601 UTC with milliseconds,
        `YYYY-MM-DDTHH:MM:SS.sssZ` (the shape of JavaScript
        `toISOString()`). Accepts `YYYY-MM-DD` and
        `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]` followed by `Z`, `z`,
        `+HH:MM`, `-HH:MM`, `+HHMM`, `-HHMM` or nothing (UTC), years
        0000-9999; the fraction is truncated to milliseconds. A number is
        Unix epoch seconds (fractional milliseconds truncated toward
        negative infinity). Anything else, including impossible dates, is
        an error.""",
        [
            (("2025-01-01T00:48:46.533095Z",), "2025-01-01T00:48:46.533Z"),
            (("2025-01-01",), "2025-01-01T00:00:00.000Z"),
            (("2025-01-01 05:30+05:30",), "2025-01-01T00:00:00.000Z"),
            (("2024-12-31T23:00:00-0230",), "2025-01-01T01:30:00.000Z"),
            ((1735692526,), "2025-01-01T00:48:46.000Z"),
            ((1735692526.5339,), "2025-01-01T00:48:46.533Z"),
            ((-0.0005,), "1969-12-31T23:59:59.999Z"),
            ((None,), None),
            (("2025-02-30",), RAISES),
            (("2025-01-01T24:00:00Z",), RAISES),
            (("2025-01-01T00:00:00+01",), RAISES),
            (("Wed, 01 Jan 2025 00:00:00 GMT",), RAISES),
            ((True,), RAISES),
        ],
    ),
    _spec(
        "coalesce", "values:any", "any",
        """The first argument that is neither missing nor null; when all
        are, the last argument (so `coalesce(a, b)` is JavaScript
        `a ?? b`).""",
        [
            ((MISSING, None, "x", "y"), "x"),
            ((0, 1), 0),
            (("", "d"), ""),
            ((False, True), False),
            ((MISSING, None), None),
            ((None, MISSING), MISSING),
            ((None,), None),
        ],
        propagates="none",
        null_doc="skips missing and null; all of them → the last argument",
        variadic=True,
        min_arity=1,
    ),
    _spec(
        "fallback", "x:any, default:any", "any",
        """`default` when `x` is missing, null or the empty string, else `x`
        (JavaScript `x || default` for strings; unlike `coalesce`, `0` and
        `false` are kept).""",
        [
            (("", "n/a"), "n/a"),
            ((None, "n/a"), "n/a"),
            ((MISSING, "n/a"), "n/a"),
            (("x", "n/a"), "x"),
            ((0, 5), 0),
            ((False, True), False),
        ],
        propagates="none",
        null_doc='missing, null or "" → default',
    ),
    _spec(
        "string", "x:any", "string",
        """Converts a scalar to a string like JavaScript `String(x)`:
        numbers in JavaScript's shortest form (`1e+21`, `1e-7`,
        `0.000001`), booleans as `true`/`false`, null as `"null"`. A missing
        value stays missing; lists and objects are an error.""",
        [
            ((12,), "12"),
            ((19.99,), "19.99"),
            ((1e21,), "1e+21"),
            ((1e-7,), "1e-7"),
            ((123456789012345680000,), "123456789012345680000"),
            ((0.000001,), "0.000001"),
            ((-0.0,), "0"),
            ((True,), "true"),
            ((None,), "null"),
            ((MISSING,), MISSING),
            (([1],), RAISES),
            (({},), RAISES),
        ],
        propagates="missing",
        null_doc='missing → missing, null → "null"',
    ),
    _spec(
        "number", "x:any", "number",
        """Converts a number or a decimal string to a number (Dodo sends
        dispute amounts as strings). Strings must be an optional sign,
        digits with an optional decimal point, and an optional exponent,
        with optional surrounding whitespace (`"12"`, `"-0.5"`, `".5"`,
        `"1e3"`); hexadecimal, `Infinity`, `""` and everything else,
        including booleans, is an error.""",
        [
            (("19.99",), 19.99),
            ((" 42 ",), 42),
            (("-.5e1",), -5),
            ((7,), 7),
            ((None,), None),
            (("",), RAISES),
            (("0x10",), RAISES),
            (("1e999",), RAISES),
            (("12abc",), RAISES),
            ((True,), RAISES),
        ],
    ),
    _spec(
        "length", "x:any", "integer",
        """The number of items in a list or of Unicode code points in a
        string (an emoji counts once).""",
        [
            (([1, 2, 3],), 3),
            (("héllo",), 5),
            (("a\U0001F600",), 2),
            ((MISSING,), MISSING),
            (({},), RAISES),
            ((5,), RAISES),
        ],
    ),
    _spec(
        "join", "items:list, sep:string", "string",
        """Joins a list of strings with a separator. Every item must be a
        string (a null or missing item is an error).""",
        [
            ((["a", "b", "c"], ", "), "a, b, c"),
            (([], "-"), ""),
            ((None, "-"), None),
            ((["a", None], "-"), RAISES),
            ((["a", 1], "-"), RAISES),
            ((["a"], 1), RAISES),
        ],
    ),
    # The text cases below follow test262's for the String methods
    # (built-ins/String/prototype/{slice,split,replaceAll,startsWith,endsWith,includes}).
    _spec(
        "slice", "x:text_or_list, start:number, end:number", "any",
        """A part of a string or a list, like JavaScript `x.slice(start,
        end)`: from `start` up to but not including `end` (the end when
        omitted or missing); a negative index counts from the end, indexes
        are clamped to the length, fractions are truncated, and `start` at
        or after `end` gives `""` (or `[]`). A string is indexed by code
        point, as `length` counts, so an emoji is never cut in half.""",
        [
            (("subscription.renewed", 13), "renewed"),
            (("payment.succeeded", 0, 7), "payment"),
            (("abcdef", -2), "ef"),
            (("abcdef", 1, -1), "bcde"),
            (("abcdef", -100, 2), "ab"),
            (("abcdef", 4, 2), ""),
            (("report", 0, 100), "report"),
            (("this is a string object", 24, 0), ""),
            (("this is a string object", -0.01, 0), ""),
            (("undefined", -4), "ined"),
            (("abcdef", 1.9, 3.5), "bc"),
            (("a\U0001F600b", 1, 2), "\U0001F600"),
            (("a\U0001F600b", -2), "\U0001F600b"),
            (([1, 2, 3, 4], 1, 3), [2, 3]),
            (([1, 2, 3], -1), [3]),
            (([], 0, 1), []),
            ((None, 1), None),
            ((MISSING, 1), MISSING),
            (("abc", "1"), RAISES),
            (("abc", 0, None), RAISES),
            ((12345, 1), RAISES),
        ],
        min_arity=2,
        py="slice_",
        null_doc="missing → missing, null → null; an omitted or missing `end` means the end",
    ),
    _spec(
        "split", "s:string, sep:string", "list",
        """Splits a string at every occurrence of a plain-text separator,
        like JavaScript `s.split(sep)`: `split("a,b,", ",")` is `["a", "b",
        ""]`, a string without the separator gives a one-item list, `""`
        gives `[""]`, and an empty separator splits into code points.""",
        [
            (("a,b,c", ","), ["a", "b", "c"]),
            (("hello", "ll"), ["he", "o"]),
            (("hello", "o"), ["hell", ""]),
            (("hello", "hellothere"), ["hello"]),
            (("", "x"), [""]),
            ((" ", ""), [" "]),
            (("ab\U0001F600", ""), ["a", "b", "\U0001F600"]),
            (("", ""), []),
            ((None, ","), None),
            (("a,b", None), RAISES),
            ((["a,b"], ","), RAISES),
        ],
    ),
    _spec(
        "replace", "s:string, find:string, with:string", "string",
        """Replaces every occurrence of the plain text `find` with `with`,
        left to right, like JavaScript `s.replaceAll(find, with)` with a
        string pattern, except that `$` in `with` is an ordinary character
        (no `$&` patterns). An empty `find` matches between code points.""",
        [
            (("aaab a a aac", "aa", "z"), "zab a a zc"),
            (("aaab a a aac", "a", "z"), "zzzb z z zzc"),
            (("subscription_plan_changed", "_", " "), "subscription plan changed"),
            (("a", "", "_"), "_a_"),
            (("", "", "abc"), "abc"),
            (("a$b", "$", "$$"), "a$$b"),
            (("ab", "b", "$&"), "a$&"),
            ((MISSING, "a", "b"), MISSING),
            (("abc", "b", None), RAISES),
            ((1, "1", "2"), RAISES),
        ],
    ),
    _spec(
        "starts_with", "s:string, prefix:string", "bool",
        """Whether a string begins with `prefix`, like JavaScript
        `s.startsWith(prefix)`; every string starts with `""`.""",
        [
            (("The future is cool!", "The "), True),
            (("The future is cool!", "The future is cool!"), True),
            (("The future is cool!", ""), True),
            (("The future is cool!", "Future"), False),
            (("ab", "abc"), False),
            ((None, "a"), None),
            (("a", 1), RAISES),
        ],
    ),
    _spec(
        "ends_with", "s:string, suffix:string", "bool",
        """Whether a string ends with `suffix`, like JavaScript
        `s.endsWith(suffix)`; every string ends with `""`.""",
        [
            (("The future is cool!", "cool!"), True),
            (("The future is cool!", ""), True),
            (("The future is cool!", "is Cool!"), False),
            (("payment.succeeded", ".succeeded"), True),
            ((MISSING, "a"), MISSING),
            (("a", None), RAISES),
        ],
    ),
    _spec(
        "contains", "x:text_or_list, item:any", "bool",
        """For a string, whether `item` (a string) occurs in it, like
        JavaScript `x.includes(item)`; for a list, whether an item equals
        `item` by `==` (deep JSON equality, so `1` matches `1.0` and objects
        compare by content).""",
        [
            (("The future is cool!", "future"), True),
            (("The future is cool!", ""), True),
            (("The future is cool!", "Future"), False),
            ((["a", "b"], "b"), True),
            (([1, 2], 2.0), True),
            (([{"a": 1}], {"a": 1}), True),
            (([1, 2], "1"), False),
            (([], None), False),
            ((None, "a"), None),
            (("abc", 1), RAISES),
            ((5, 5), RAISES),
        ],
    ),
    _spec(
        "sum", "items:list", "number",
        """The sum of a list of numbers, added left to right in doubles as a
        JavaScript loop would (`sum([0.1, 0.2])` is 0.30000000000000004); 0
        for an empty list. Every item must be a number (a null item is an
        error).""",
        [
            (([1, 2, 3],), 6),
            (([0.1, 0.2],), 0.30000000000000004),
            (([],), 0),
            (([1.5, -1.5],), 0),
            ((None,), None),
            (([1, None],), RAISES),
            (([1, "2"],), RAISES),
            (([1e308, 1e308],), RAISES),
            (("12",), RAISES),
        ],
        py="sum_",
    ),
    _spec(
        "first", "items:list", "any",
        """The first item of a list; missing for an empty list (so
        `first(x) ?? default` covers both).""",
        [
            (([1, 2, 3],), 1),
            (([None, 2],), None),
            (([],), MISSING),
            ((None,), None),
            (("abc",), RAISES),
        ],
        makes_missing=True,
    ),
    _spec(
        "last", "items:list", "any",
        """The last item of a list; missing for an empty list.""",
        [
            (([1, 2, 3],), 3),
            (([[1], [2]],), [2]),
            (([],), MISSING),
            ((MISSING,), MISSING),
            (({"a": 1},), RAISES),
        ],
        makes_missing=True,
    ),
)

_BINARY = "a:any, b:any"

_OPERATOR_LIST = (
    _spec(
        "add", _BINARY, "any",
        """`a + b`: adds two numbers or concatenates two strings. Missing in
        either operand gives missing, otherwise null gives null; any other
        mix (number and string, booleans, lists) is an error.""",
        [
            ((1, 2), 3),
            ((0.1, 0.2), 0.30000000000000004),
            (("a", "b"), "ab"),
            ((9007199254740991, 2), 9007199254740992.0),
            ((MISSING, None), MISSING),
            ((None, 1), None),
            (("a", 1), RAISES),
            ((True, 1), RAISES),
            ((1e308, 1e308), RAISES),
        ],
        role="operator", symbol="+",
    ),
    _spec(
        "sub", _BINARY, "number",
        """`a - b` on numbers; null/missing as for `+`.""",
        [((5, 7), -2), ((0.3, 0.1), 0.19999999999999998), ((1, MISSING), MISSING),
         (("a", "b"), RAISES)],
        role="operator", symbol="-",
    ),
    _spec(
        "mul", _BINARY, "number",
        """`a * b` on numbers; null/missing as for `+`.""",
        [((6, 7), 42), ((1.1, 3), 3.3000000000000003), ((None, 2), None),
         (("ab", 2), RAISES)],
        role="operator", symbol="*",
    ),
    _spec(
        "div", _BINARY, "number",
        """`a / b` on numbers (always exact division, never integer
        division); dividing by zero is an error.""",
        [((7, 2), 3.5), ((1, 3), 0.3333333333333333), ((6, 3), 2), ((MISSING, 0), MISSING),
         ((1, 0), RAISES), ((1, -0.0), RAISES)],
        role="operator", symbol="/",
    ),
    _spec(
        "mod", _BINARY, "number",
        """`a % b` with JavaScript semantics: the result takes the sign of
        the dividend (`-7 % 3` is -1, not Python's 2); modulo zero is an
        error.""",
        [((7, 3), 1), ((-7, 3), -1), ((7, -3), 1), ((5.5, 2), 1.5), ((-4, 2), 0),
         ((1, 0), RAISES)],
        role="operator", symbol="%",
    ),
    _spec(
        "lt", _BINARY, "bool",
        """`a < b`: two numbers, or two strings compared by Unicode code
        point. Null or missing on either side gives false; any other mix is
        an error.""",
        [((1, 2), True), ((2, 2), False), (("b", "a"), False), (("\uffff", "\U0001F600"), True),
         ((None, 1), False), ((MISSING, "a"), False), ((1, "2"), RAISES), ((True, False), RAISES)],
        propagates="none", role="operator", symbol="<",
        null_doc="null or missing on either side → false",
    ),
    _spec(
        "le", _BINARY, "bool", """`a <= b`; see `<`.""",
        [((2, 2), True), ((3, 2), False), (("a", "ab"), True), ((None, None), False), (("1", 1), RAISES)],
        propagates="none", role="operator", symbol="<=",
        null_doc="null or missing on either side → false",
    ),
    _spec(
        "gt", _BINARY, "bool", """`a > b`; see `<`.""",
        [((3, 2.5), True), ((2, 2), False), (("\U0001F600", "\uffff"), True), ((1, None), False), ((1, [1]), RAISES)],
        propagates="none", role="operator", symbol=">",
        null_doc="null or missing on either side → false",
    ),
    _spec(
        "ge", _BINARY, "bool", """`a >= b`; see `<`.""",
        [((2, 2.0), True), ((1, 2), False), (("a", "b"), False), ((MISSING, 1), False), (({}, {}), RAISES)],
        propagates="none", role="operator", symbol=">=",
        null_doc="null or missing on either side → false",
    ),
    _spec(
        "eq", _BINARY, "bool",
        """`a == b`: deep JSON equality. Missing equals null, `1 == 1.0`,
        `true != 1`, object key order does not matter and an object member
        whose value is missing counts as absent.""",
        [((MISSING, None), True), ((1, 1.0), True), ((True, 1), False),
         (({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]}), True),
         (({"a": None}, {}), False), (({"a": MISSING}, {}), True),
         (([None], [MISSING]), True), (("1", 1), False)],
        propagates="none", role="operator", symbol="==",
        null_doc="missing counts as null",
    ),
    _spec(
        "ne", _BINARY, "bool", """`a != b`: the negation of `==`.""",
        [((1, 2), True), ((None, MISSING), False), (([1, 2], [1, 2]), False)],
        propagates="none", role="operator", symbol="!=",
        null_doc="missing counts as null",
    ),
)

_UNARY_LIST = (
    _spec(
        "neg", "a:any", "number", """`-a` on a number; null/missing pass through.""",
        [((5,), -5), ((-0.5,), 0.5), ((0,), 0), ((None,), None), (("5",), RAISES)],
        role="operator", symbol="-",
    ),
)

_INTERNAL_LIST = (
    _spec(
        "truth", "x:any", "bool",
        """The truth of a condition (`when:`, `if`, `and`, `or`, `not`): a
        boolean is itself, null and missing are false, anything else is an
        error (no truthiness of numbers or strings).""",
        [((True,), True), ((False,), False), ((None,), False), ((MISSING,), False),
         ((0,), RAISES), (("true",), RAISES), (([],), RAISES)],
        propagates="none", role="internal", null_doc="missing, null → false",
    ),
    _spec(
        "index", "x:any, i:any", "any",
        """`x[i]`: a list element (an integer index, negative counting from
        the end) or an object member (a string key); missing when out of
        range or absent, when `x` is null or missing, and for every other
        combination (the checker reports ill-typed ones statically).""",
        [(([1, 2, 3], 0), 1), (([1, 2, 3], -1), 3), (([1, 2, 3], 3), MISSING),
         (([1, 2, 3], 1.0), 2), (([1, 2, 3], 0.5), MISSING), (([1, 2, 3], "0"), MISSING),
         (({"a": None}, "a"), None), (({"a": 1}, "b"), MISSING), (({"a": 1}, "constructor"), MISSING),
         (({"0": 1}, 0), MISSING), ((None, "a"), MISSING), ((MISSING, 0), MISSING),
         (("abc", 0), MISSING), (([True], True), MISSING)],
        propagates="missing", role="internal", null_doc="missing or null container → missing",
    ),
    _spec(
        "template_part", "x:any", "string",
        """How a value renders inside a string template `"...{x}..."`:
        missing and null render as nothing, strings as themselves, numbers
        and booleans as `string(x)`; lists and objects are an error.""",
        [((MISSING,), ""), ((None,), ""), (("a",), "a"), ((1.5,), "1.5"), ((1e21,), "1e+21"),
         ((False,), "false"), (([],), RAISES), (({},), RAISES)],
        propagates="none", role="internal", null_doc='missing, null → ""',
    ),
    _spec(
        "num", "x:number", "number",
        """Normalises a number the generated code produced itself: integral
        values become integers, NaN and infinities are an error.""",
        [((2.0,), 2), ((0.5,), 0.5), ((-0.0,), 0), ((float("inf"),), RAISES), (("1",), RAISES)],
        propagates="none", role="internal", null_doc="not applicable (numbers only)",
    ),
)


class LambdaSpec(Record):
    """A function whose second argument is a function, ``item => expression``.

    The generators emit the loop themselves (no run-time helper, so a
    failing item's error points into the mapping), which is why these are
    a table of their own; ``examples`` are mapping expressions with the
    value both targets must give.
    """

    __slots__ = ("name", "signature", "doc", "null_doc", "examples")
    name: str
    signature: str
    doc: str
    null_doc: str
    examples: tuple[tuple[str, Any], ...]

    def __init__(self, *, name: str, signature: str, doc: str, null_doc: str,
                 examples: tuple[tuple[str, Any], ...]) -> None:
        _set(self, "name", name)
        _set(self, "signature", signature)
        _set(self, "doc", doc)
        _set(self, "null_doc", null_doc)
        _set(self, "examples", examples)


_LAMBDA_LIST = (
    LambdaSpec(
        name="map",
        signature="map(list, item => expression) -> list",
        doc=("Applies the expression to each item of a list, in order; an item whose result is "
             "missing becomes null. A null or missing list gives null or missing (write "
             "`map(x ?? [], ...)` for an empty list instead); anything else is an error."),
        null_doc="missing → missing, null → null",
        examples=(
            ("map([1, 2, 3], x => x * 2)", [2, 4, 6]),
            ('map(["a", "b"], s => upper(s))', ["A", "B"]),
            ("map([{a: 1}, {a: 2}], o => o.a)", [1, 2]),
            ('map([1, 2], x => if x > 1 then x else data.metadata["absent"])', [None, 2]),
            ("map([], x => x)", []),
            ("map(null, x => x)", None),
        ),
    ),
    LambdaSpec(
        name="filter",
        signature="filter(list, item => condition) -> list",
        doc=("The items of a list for which the condition is true, in order, like JavaScript "
             "`list.filter(...)` but with segmap's conditions: the condition must be true, false, "
             "null or missing (null and missing count as false; anything else is an error). A null "
             "or missing list gives null or missing."),
        null_doc="missing → missing, null → null",
        examples=(
            ("filter([1, 2, 3, 4], x => x > 2)", [3, 4]),
            ('filter(["a", "", "b"], s => s != "")', ["a", "b"]),
            ("filter([{q: 1}, {q: 0}, {q: 2}], p => p.q > 0)", [{"q": 1}, {"q": 2}]),
            ("sum(map(filter([1, 2, 3], x => x != 2), x => x * 10))", 40),
            ("filter([], x => true)", []),
            ("filter(null, x => true)", None),
        ),
    ),
)

#: Functions taking ``item => expression`` (map, filter), by name.
LAMBDA_FUNCTIONS: Mapping[str, LambdaSpec] = MappingProxyType({s.name: s for s in _LAMBDA_LIST})


def _table(specs: Iterable[FunctionSpec], key: Callable[[FunctionSpec], str]) -> Mapping[str, FunctionSpec]:
    out: dict[str, FunctionSpec] = {}
    for s in specs:
        k = key(s)
        assert k not in out, k
        out[k] = s
    return MappingProxyType(out)


#: Functions a mapping may call, by name.
FUNCTIONS: Mapping[str, FunctionSpec] = _table(_FUNCTION_LIST, lambda s: s.name)
#: Binary operators, by symbol: + - * / % < <= > >= == !=.
OPERATORS: Mapping[str, FunctionSpec] = _table(_OPERATOR_LIST, lambda s: s.symbol or "")
#: Prefix operators, by symbol: -.
UNARY_OPERATORS: Mapping[str, FunctionSpec] = _table(_UNARY_LIST, lambda s: s.symbol or "")
#: Helpers only generated code calls, by name.
INTERNAL: Mapping[str, FunctionSpec] = _table(_INTERNAL_LIST, lambda s: s.name)
#: Every spec, functions first.
ALL_SPECS: tuple[FunctionSpec, ...] = _FUNCTION_LIST + _OPERATOR_LIST + _UNARY_LIST + _INTERNAL_LIST


def lookup(name: str) -> FunctionSpec | None:
    """The user-callable function ``name``, or None (the checker then
    suggests a close name from ``FUNCTIONS``)."""
    return FUNCTIONS.get(name)


# --- the JavaScript runtime ---------------------------------------------------

class JsBlock(Record):
    """One top-level declaration of ``js_runtime.js`` with its comments."""

    __slots__ = ("name", "deps", "text")
    name: str
    deps: tuple[str, ...]
    text: str

    def __init__(self, name: str, deps: tuple[str, ...], text: str) -> None:
        _set(self, "name", name)
        _set(self, "deps", deps)
        _set(self, "text", text)


_DECL_RE = re.compile(r"^(?:function|var) (__sm_\w+)")


@cache
def js_runtime_text() -> str:
    """The whole ``js_runtime.js``."""
    from importlib import resources  # only the JS export needs it: not imported by `segmap check`

    return resources.files("segmap.compiler").joinpath("js_runtime.js").read_text("utf-8")


@cache
def js_runtime_blocks() -> Mapping[str, JsBlock]:
    """The declarations of ``js_runtime.js`` by name, in file order."""
    blocks: dict[str, JsBlock] = {}
    lines = js_runtime_text().splitlines()
    pending: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _DECL_RE.match(line)
        if m is None:
            pending = pending + [line] if line.startswith("//") else []
            i += 1
            continue
        body = [line]
        if not line.rstrip().endswith(";"):
            i += 1
            while i < len(lines) and not lines[i].startswith("}"):
                body.append(lines[i])
                i += 1
            body.append(lines[i])
        i += 1
        deps: tuple[str, ...] = ()
        for c in pending:
            if c.startswith("// deps:"):
                deps = tuple(d.strip() for d in c[len("// deps:"):].split(",") if d.strip())
        name = m.group(1)
        blocks[name] = JsBlock(name, deps, "\n".join(pending + body) + "\n")
        pending = []
    return MappingProxyType(blocks)


def js_dependencies(names: Iterable[str]) -> list[str]:
    """``names`` plus everything they depend on, in file order."""
    blocks = js_runtime_blocks()
    seen: set[str] = set()
    todo = list(names)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        if n not in blocks:
            raise KeyError(f"no {n} in js_runtime.js")
        seen.add(n)
        todo.extend(blocks[n].deps)
    return [n for n in blocks if n in seen]


def js_runtime_source(names: Iterable[str] | None = None) -> str:
    """The runtime declarations ``names`` need (all of them for None)."""
    blocks = js_runtime_blocks()
    wanted = list(blocks) if names is None else js_dependencies(names)
    return "\n".join(blocks[n].text for n in wanted)


# --- documentation ------------------------------------------------------------

def _show(v: Any) -> str:
    if v is MISSING:
        return "missing"
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if type(v) is float:
        from segmap.runtime.functions import string

        return str(string(v))
    if type(v) is str:
        return json.dumps(v, ensure_ascii=False)
    if type(v) is list:
        return "[" + ", ".join(_show(x) for x in v) + "]"
    if type(v) is dict:
        return "{" + ", ".join(f"{_show(k)}: {_show(x)}" for k, x in v.items()) + "}"
    return str(v)


def example_text(spec: FunctionSpec, example: Example) -> str:
    """An example as mapping-language text: ``to_major(1999, "USD") → 19.99``."""
    args, expected = example
    shown = [_show(a) for a in args]
    if spec.role == "operator" and spec.symbol and len(args) == 2:
        call = f"{shown[0]} {spec.symbol} {shown[1]}"
    elif spec.role == "operator" and spec.symbol:
        call = f"{spec.symbol}({shown[0]})"
    else:
        call = f"{spec.name}({', '.join(shown)})"
    return f"{call} → {'error' if expected is RAISES else _show(expected)}"


def null_behaviour(spec: FunctionSpec) -> str:
    """One phrase for the docs table."""
    if spec.null_doc:
        return spec.null_doc
    if spec.propagates_missing and spec.propagates_null:
        if spec.role == "operator" and len(spec.params) == 2:
            return "missing in either → missing, else null → null"
        return "missing → missing, null → null"
    if spec.propagates_missing:
        return "missing → missing"
    return "no special case"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(specs: Iterable[FunctionSpec]) -> str:
    """A Markdown table of ``specs``: signature, description, null
    behaviour and the first example (the README and docs/functions.md)."""
    rows = ["| Signature | What it does | Null / missing | Example |", "|---|---|---|---|"]
    for spec in specs:
        sig = spec.signature
        if spec.role == "operator" and spec.symbol:
            sig = (f"a {spec.symbol} b" if len(spec.params) == 2 else f"{spec.symbol}a") + f" ({spec.name})"
        rows.append(
            f"| `{_cell(sig)}` | {_cell(spec.doc)} | {_cell(null_behaviour(spec))} "
            f"| `{_cell(example_text(spec, spec.examples[0]))}` |"
        )
    return "\n".join(rows) + "\n"


_DOCS_INTRO = """\
# Functions and operators

<!-- Generated by `python -m segmap.compiler.functions`; edit the registry in
segmap/compiler/functions.py, not this file. -->

Values are JSON values plus *missing* (a path that is absent from the
envelope; JavaScript `undefined`). An object member whose value is missing
is left out of the Segment call, a null member is kept. Unless a row says
otherwise, a function whose first argument is missing returns missing and
one whose first argument is null returns null; `segmap check` warns about
that statically. A function that fails (wrong type, unknown currency, bad
timestamp) fails the whole webhook with a run-time error that names the
mapping location.

Numbers behave like JavaScript numbers (doubles) on both targets: the
Python and JavaScript builds give the same JSON for the same webhook.
Integral results are integers (`to_major(500, "JPY")` is `500`, not
`500.0`), and NaN or infinity is a run-time error, never output.

## Functions

"""

_DOCS_OPERATORS = """
## Operators

Arithmetic and comparison work on numbers (and `+` and comparisons also on
two strings); there is no implicit conversion, so `"1" + 1` is an error:
use `number(...)` or `string(...)`. Conditions (`when:`, `if`, `and`, `or`,
`not`) take booleans only; null and missing count as false, anything else
is an error. `and` and `or` short-circuit.

"""

_DOCS_NOTES = """
## Notes on exactness

- `fixed` and `round` reproduce JavaScript's `toFixed` on the exact binary
  value of the number: `fixed(1.005, 2)` is `"1.00"` and `fixed(1.45, 1)`
  is `"1.4"` (both are slightly below the written value), while true ties
  round away from zero (`fixed(2.5, 0)` is `"3"`, `fixed(0.125, 2)` is
  `"0.13"`). For money, prefer `to_major`, which divides exactly once.
- `lower` and `upper` follow JavaScript's Unicode tables (Unicode 17 in
  node 20); the Python build carries the few case pairs and casing
  properties (for the final-sigma rule) that its own tables (Unicode 14 in
  Python 3.11) lack.
- `trim` and `number` use JavaScript's whitespace set, which differs from
  Python's (`U+001C`-`U+001F` and `U+0085` are not whitespace; `U+FEFF`
  is).
- String comparison is by Unicode code point on both targets (JavaScript's
  own `<` compares UTF-16 code units, which orders `U+FFFF` after emoji).
"""


_DOCS_LAMBDAS = """
### Functions of a list and an `item => expression`

The name before `=>` stands for each item inside the expression (it must
not be one of the envelope's names: `business_id`, `type`, `timestamp`,
`data`).

"""


def lambda_table() -> str:
    """The Markdown table of :data:`LAMBDA_FUNCTIONS`."""
    rows = ["| Signature | What it does | Null / missing | Example |", "|---|---|---|---|"]
    for spec in LAMBDA_FUNCTIONS.values():
        text, value = spec.examples[0]
        rows.append(f"| `{_cell(spec.signature)}` | {_cell(spec.doc)} | {_cell(spec.null_doc)} "
                    f"| `{_cell(text)} → {_cell(_show(value))}` |")
    return "\n".join(rows) + "\n"


def docs_fragment() -> str:
    """docs/functions.md: every user-visible function and operator."""
    return (
        _DOCS_INTRO
        + markdown_table(FUNCTIONS.values())
        + _DOCS_LAMBDAS
        + lambda_table()
        + _DOCS_OPERATORS
        + markdown_table([*OPERATORS.values(), *UNARY_OPERATORS.values()])
        + _DOCS_NOTES
    )


__all__ = [
    "ALL_SPECS",
    "FUNCTIONS",
    "INTERNAL",
    "KINDS",
    "OPERATORS",
    "RAISES",
    "UNARY_OPERATORS",
    "Example",
    "FunctionSpec",
    "JsBlock",
    "Kind",
    "LAMBDA_FUNCTIONS",
    "LambdaSpec",
    "Param",
    "docs_fragment",
    "example_text",
    "js_dependencies",
    "js_runtime_blocks",
    "js_runtime_source",
    "js_runtime_text",
    "lambda_table",
    "lookup",
    "markdown_table",
    "null_behaviour",
]


if __name__ == "__main__":
    import sys

    sys.stdout.write(docs_fragment())
