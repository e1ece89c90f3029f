"""Expression text -> AST, with spans in the mapping file.

Lark parses with the LALR grammar in ``segmap/grammar/expr.lark``; a
transformer turns its tree into the frozen nodes of ``segmap.dsl.ast``.
Input is bounded (length and nesting) before any recursive step so that no
expression can raise RecursionError.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from segmap.diagnostics.model import Diagnostic, Severity, Span
from segmap.dsl import ast
from segmap.dsl.plain_tree import PlainTree, depth, from_lark
from segmap.dsl.yaml_source import YScalar

if TYPE_CHECKING:
    from lark import Lark
    from lark.exceptions import UnexpectedInput

    from segmap.dsl.tree_cache import TreeCache

MAX_EXPR_CHARS = 4000
MAX_EXPR_DEPTH = 48

_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "TEMPLATE": "a template f\"...\"",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`", "RBRACE": "`}`",
    "COMMA": "`,`", "DOT": "`.`", "COLON": "`:`", "COMP_OP": "a comparison", "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*`, `/` or `%`", "MINUS": "`-`", "IF": "`if`", "THEN": "`then`", "ELSE": "`else`",
    "AND": "`and`", "OR": "`or`", "NOT": "`not`", "TRUE": "`true`", "FALSE": "`false`", "NULL": "`null`",
    "$END": "the end of the expression", "__ANON_0": "`??`", "__ANON_1": "`=>`",
}


@lru_cache(maxsize=1)
def parser() -> Lark:
    # pre-built LALR tables (segmap/grammar/expr_tables.py), falling back to building from expr.lark
    from segmap.grammar.serialize import load_parser

    return load_parser()


#: The persistent cache of parse trees `segmap check` reads and writes (None: parse every text).
_tree_cache: TreeCache | None = None


def use_tree_cache(cache: TreeCache | None) -> None:
    """Read parse trees from ``cache`` before parsing, and add the trees parsed to it.

    Only `segmap check` turns this on: a tree from the cache decides diagnostics, never what a
    compiled mapping sends (compiling always parses with Lark)."""
    global _tree_cache
    _tree_cache = cache
    _parse_tree.cache_clear()


class _SyntaxFailure(Exception):
    """Lark refused the text; ``error`` is its UnexpectedInput (Lark is imported by then)."""

    def __init__(self, error: UnexpectedInput) -> None:
        super().__init__(str(error))
        self.error = error


@lru_cache(maxsize=4096)
def _parse_tree(text: str) -> tuple[PlainTree, int]:
    """The parse tree of an expression text, as plain lists (``segmap.dsl.plain_tree``), and its depth.

    Mappings repeat the same expressions across events (`data.customer.customer_id` ...), and the
    tree depends only on the text, so it is parsed once; spans are applied per occurrence by the
    builder. With a persistent cache (``use_tree_cache``) a text parsed by an earlier `segmap check`
    is not parsed again, and a check whose texts are all there never imports Lark."""
    cache = _tree_cache
    if cache is not None:
        cached = cache.get(text)
        if cached is not None:
            return cached, depth(cached)
    from lark.exceptions import UnexpectedInput

    try:
        tree = from_lark(parser().parse(text))
    except UnexpectedInput as exc:
        raise _SyntaxFailure(exc) from None
    if cache is not None:
        cache.put(text, tree)
    return tree, depth(tree)


def _describe_expected(expected: Iterable[str]) -> str:
    names = sorted({_TERMINAL_NAMES.get(t, None) or _literal_name(t) for t in expected})
    if len(names) > 6:
        names = names[:6] + ["..."]
    return ", ".join(names)


def _literal_name(term: str) -> str:
    try:
        pat = parser().get_terminal(term).pattern
        return f"`{pat.value}`" if pat.type == "str" else term
    except Exception:  # noqa: BLE001 - unknown terminal: show its name
        return term


#: A token as the builder sees it: (type, text, start, end), offsets in the expression text.
_Tok = tuple[str, str, int, int]


class _Builder:
    """Plain parse tree -> ast nodes. ``span_of(start, end)`` maps expression offsets to the file.

    One method per rule of ``segmap/grammar/expr.lark`` (its name or alias), called with the
    rule's (start, end) offsets and its children already built, bottom-up, as Lark's Transformer
    would; tokens arrive as ``_Tok`` tuples."""

    def __init__(self, text: str, span_of: Callable[[int, int], Span], sub_parse: Callable[..., Any]) -> None:
        self._text = text
        self._span_of = span_of
        self._sub_parse = sub_parse

    def build(self, node: PlainTree) -> Any:
        """The value of ``node`` (recursive: the caller has bounded the tree's depth)."""
        if len(node) == 3:
            kind, start, end = node
            return (kind, self._text[start:end], start, end)
        rule, start, end, kids = node
        return getattr(self, rule)(start, end, [self.build(k) for k in kids])

    def _tsp(self, tok: _Tok) -> Span:
        return self._span_of(tok[2], tok[3])

    def cond(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Cond(c[0], c[1], c[2], self._span_of(start, end))

    def coalesce(self, start: int, end: int, c: list[Any]) -> Any:
        left, right = c
        return ast.Binary("??", left, right, self._span_of(start, end), self._between(left, right))

    def _between(self, left: ast.Expr, right: ast.Expr) -> Span:
        # the operator sits between the operands; point at the gap
        return Span(left.span.file, left.span.end_line, left.span.end_col, right.span.line, right.span.col)

    def or_(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Binary("or", c[0], c[1], self._span_of(start, end), self._between(c[0], c[1]))

    def and_(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Binary("and", c[0], c[1], self._span_of(start, end), self._between(c[0], c[1]))

    def not_(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Unary("not", c[0], self._span_of(start, end))

    def compare(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Binary(c[1][1], c[0], c[2], self._span_of(start, end), self._tsp(c[1]))

    def binary(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Binary(c[1][1], c[0], c[2], self._span_of(start, end), self._tsp(c[1]))

    def neg(self, start: int, end: int, c: list[Any]) -> Any:
        operand = c[0]
        if isinstance(operand, ast.Literal) and type(operand.value) in (int, float):
            return ast.Literal(-cast(float, operand.value), self._span_of(start, end))
        return ast.Unary("-", operand, self._span_of(start, end))

    def field(self, start: int, end: int, c: list[Any]) -> Any:
        obj, name_tok = c
        return ast.Field(obj, name_tok[1], self._span_of(start, end), self._tsp(name_tok))

    def field_name(self, start: int, end: int, c: list[Any]) -> Any:
        return c[0]

    def index(self, start: int, end: int, c: list[Any]) -> Any:
        obj, idx = c
        if isinstance(idx, ast.Literal) and isinstance(idx.value, str):
            return ast.Field(obj, idx.value, self._span_of(start, end), idx.span)
        return ast.Index(obj, idx, self._span_of(start, end))

    def call(self, start: int, end: int, c: list[Any]) -> Any:
        name_tok = c[0]
        args = tuple(c[1]) if len(c) > 1 and c[1] is not None else ()
        return ast.Call(name_tok[1], args, self._span_of(start, end), self._tsp(name_tok))

    def args(self, start: int, end: int, c: list[Any]) -> Any:
        return list(c)

    def lambda_(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Lambda(c[0][1], c[1], self._span_of(start, end), self._tsp(c[0]))

    def name(self, start: int, end: int, c: list[Any]) -> Any:
        tok = c[0]
        return ast.Name(tok[1], self._tsp(tok))

    def string(self, start: int, end: int, c: list[Any]) -> Any:
        tok = c[0]
        return ast.Literal(self._decoded(tok), self._tsp(tok))

    def _decoded(self, tok: _Tok) -> str:
        try:
            return decode_string(tok[1])
        except _BadEscape as exc:  # located at the escape itself
            start = tok[2]
            raise _BadString(str(exc), self._span_of(start + exc.offset, start + exc.offset + exc.width)) from None

    def number(self, start: int, end: int, c: list[Any]) -> Any:
        tok = c[0]
        text = tok[1]
        value: object
        if any(ch in text for ch in ".eE"):
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise _BadNumber(f"the number {text} is too large for a double", self._tsp(tok))
            if value.is_integer() and abs(value) < 2**53:
                value = int(value)
        else:
            value = int(text)
            try:
                exact = float(value) == value
            except OverflowError:
                exact = False
            if not exact:  # JavaScript (and JSON.parse) would hold a rounded double, or Infinity
                raise _BadNumber(f"the number {text} is too large to be represented exactly in a double "
                                 "(integers beyond 2^53 are rounded)", self._tsp(tok))
            if not -2**53 < value < 2**53:
                value = float(value)  # as a run-time number of this size is (num() in segmap.runtime.functions)
        return ast.Literal(value, self._tsp(tok))

    def template(self, start: int, end: int, c: list[Any]) -> Any:
        return self._sub_parse(c[0])

    def true(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Literal(True, self._span_of(start, end))

    def false(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Literal(False, self._span_of(start, end))

    def null(self, start: int, end: int, c: list[Any]) -> Any:
        return ast.Literal(None, self._span_of(start, end))

    def list_(self, start: int, end: int, c: list[Any]) -> Any:
        items = tuple(c[0]) if c and c[0] is not None else ()
        return ast.ListLit(items, self._span_of(start, end))

    def items(self, start: int, end: int, c: list[Any]) -> Any:
        return list(c)

    def object_(self, start: int, end: int, c: list[Any]) -> Any:
        entries = tuple(c[0]) if c and c[0] is not None else ()
        return ast.ObjectLit(entries, self._span_of(start, end))

    def entries(self, start: int, end: int, c: list[Any]) -> Any:
        return list(c)

    def entry(self, start: int, end: int, c: list[Any]) -> Any:
        key_tok, value = c
        key = self._decoded(key_tok) if key_tok[0] == "STRING" else key_tok[1]
        return ast.ObjectEntry(key, value, self._tsp(key_tok))


def decode_string(text: str) -> str:
    """Decode a quoted string literal; single-quoted strings use the same escapes as JSON.

    Raises _BadEscape (with the offset of the escape in ``text``) for an escape JSON does
    not know and for an unpaired surrogate (`\\ud800`): that is no Unicode character, so
    no UTF-8 output (Segment's JSON, a terminal) could carry it.
    """
    body = text[1:-1]
    _check_escapes(body, 1, "'" if text[0] == "'" else "")
    if text[0] == "'":
        body = body.replace("\\'", "'").replace('"', '\\"')
    try:
        decoded: str = json.loads('"' + body + '"', strict=False)  # a tab typed inside the quotes is kept
        return decoded
    except ValueError as exc:  # pragma: no cover - _check_escapes refuses every escape JSON refuses
        raise _BadEscape(str(exc), 0, len(text)) from None


_ESCAPES = frozenset('"\\/bfnrt')


def _check_escapes(body: str, base: int, extra: str = "") -> None:
    """Refuse unknown escapes and unpaired surrogate escapes in the body of a string (or template text)."""
    i, n = 0, len(body)
    pending_high = None  # offset of a `\\ud8xx` still waiting for its low half
    while i < n:
        if body[i] != "\\":
            if pending_high is not None:
                break
            i += 1
            continue
        e = body[i + 1] if i + 1 < n else ""
        if e == "u":
            digits = body[i + 2:i + 6]
            if len(digits) != 4 or any(ch not in "0123456789abcdefABCDEF" for ch in digits):
                raise _BadEscape("`\\u` must be followed by four hex digits, as in `\\u00e9`", base + i,
                                 2 + sum(1 for _ in zip(digits, range(4))))
            code = int(digits, 16)
            if 0xDC00 <= code <= 0xDFFF and pending_high is None:
                raise _BadEscape(_lone_surrogate(digits), base + i, 6)
            if pending_high is not None and not 0xDC00 <= code <= 0xDFFF:
                break
            pending_high = i if 0xD800 <= code <= 0xDBFF and pending_high is None else None
            i += 6
            continue
        if pending_high is not None:
            break
        if e and (e in _ESCAPES or e in extra):
            i += 2
            continue
        shown = f"`\\{e}`" if e else "a `\\` at the end"
        raise _BadEscape(f"unknown escape {shown} in a string (escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                         base + i, 2 if e else 1)
    if pending_high is not None:
        raise _BadEscape(_lone_surrogate(body[pending_high + 2:pending_high + 6]), base + pending_high, 6)


def _lone_surrogate(digits: str) -> str:
    return (f"`\\u{digits}` is half of a surrogate pair, not a character: no UTF-8 text can hold it "
            "(write the character itself, or both halves of the pair, as in `\\ud83d\\ude00`)")


class _BadNumber(ValueError):
    """A number literal no double can hold; ``span`` is the literal's own span."""

    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.span = span


class _BadString(_BadNumber):
    """A string literal with an escape no string may hold; ``span`` is the escape's."""


class _BadEscape(ValueError):
    """An escape no string may hold; ``offset`` and ``width`` locate it in the text checked."""

    def __init__(self, message: str, offset: int, width: int):
        super().__init__(message)
        self.offset = offset
        self.width = width


def _bracket_balance(text: str) -> int:
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def _bracket_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


class ExpressionParser:
    """Parses the expressions of one YAML scalar."""

    def __init__(self, scalar: YScalar):
        self.scalar = scalar
        self.diagnostics: list[Diagnostic] = []

    def span(self, start: int, end: int, base: int = 0) -> Span:
        return self.scalar.sub_span(base + start, base + end)

    def parse(self, text: str | None = None, base: int = 0) -> ast.Expr | None:
        text = self.scalar.value if text is None else text
        if not text.strip():
            self.diagnostics.append(Diagnostic("E101", Severity.ERROR, "empty expression", self.scalar.span,
                                               hint='write a value, or "" for an empty string'))
            return None
        if len(text) > MAX_EXPR_CHARS or _bracket_depth(text) > MAX_EXPR_DEPTH // 2:
            self.diagnostics.append(Diagnostic("E005", Severity.ERROR,
                                               f"expression too long or too deeply nested (limits: {MAX_EXPR_CHARS} characters, "
                                               f"{MAX_EXPR_DEPTH // 2} levels of brackets)", self.span(0, len(text), base)))
            return None
        try:
            tree, levels = _parse_tree(text)
        except _SyntaxFailure as failure:
            self.diagnostics.append(self._syntax_error(failure.error, text, base))
            return None
        if levels > MAX_EXPR_DEPTH:
            self.diagnostics.append(Diagnostic("E005", Severity.ERROR,
                                               f"expression nested deeper than {MAX_EXPR_DEPTH} levels",
                                               self.span(0, len(text), base)))
            return None
        try:
            built: ast.Expr = _Builder(text, lambda s, e: self.span(s, e, base),
                                       lambda tok: self._template(tok, base)).build(tree)
            return built
        except Exception as inner:
            if isinstance(inner, _BadString):
                self.diagnostics.append(Diagnostic("E101", Severity.ERROR, f"invalid string: {inner}", inner.span))
                return None
            if isinstance(inner, _BadNumber):
                self.diagnostics.append(Diagnostic("E101", Severity.ERROR, f"invalid number: {inner}", inner.span))
                return None
            if isinstance(inner, _AlreadyReported):
                return None
            if isinstance(inner, (_BadEscape, _TemplateError)):
                self.diagnostics.append(Diagnostic("E101", Severity.ERROR, f"invalid string: {inner}",
                                                   self.span(0, len(text), base)))
                return None
            raise

    def _template(self, tok: _Tok, base: int) -> ast.Expr:
        _, raw, tok_start, tok_end = tok
        body_start = tok_start + 2  # after f"
        parts: list[str | ast.Expr] = []
        text_buf: list[str] = []
        i, n = 0, len(raw) - 3  # body is raw[2:-1]
        body = raw[2:-1]
        seg_start = 0  # where the text segment in text_buf starts in body

        def flush(end: int) -> None:
            if text_buf:
                try:
                    _check_escapes(body[seg_start:end], 0)
                except _BadEscape as exc:
                    at = base + body_start + seg_start + exc.offset
                    raise _BadString(str(exc), self.span(at, at + exc.width)) from None
                parts.append(_decode_text("".join(text_buf)))
                text_buf.clear()

        while i < n:
            ch = body[i]
            if ch == "\\":
                text_buf.append(body[i:i + 2])  # kept raw; decoded per segment so surrogate pairs combine
                i += 2
            elif body.startswith("{{", i) or body.startswith("}}", i):
                text_buf.append(ch)
                i += 2
            elif ch == "{":
                end = _hole_end(body, i)
                flush(i)
                inner = body[i + 1:end]
                expr = self.parse(inner, base + body_start + i + 1)
                if expr is None:  # the hole's own error is already reported
                    raise _AlreadyReported()
                parts.append(expr)
                i = end + 1
                seg_start = i
            else:
                text_buf.append(ch)
                i += 1
        flush(n)
        sp = self.span(tok_start, tok_end, base)
        texts = [p for p in parts if isinstance(p, str)]
        if len(texts) == len(parts):
            return ast.Literal("".join(texts), sp)
        return ast.Template(tuple(parts), sp)

    def _syntax_error(self, exc: UnexpectedInput, text: str, base: int) -> Diagnostic:
        from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

        lexical = _lexical_mistake(text)
        if lexical is not None:  # a string or template that never ends: say so, at its opening
            message, start, end, hint = lexical
            return Diagnostic("E101", Severity.ERROR, f"expression syntax error: {message}",
                              self.span(start, end, base), hint=hint)
        pos = getattr(exc, "pos_in_stream", None)
        if pos is None:
            pos = len(text)
        token_end = 0
        if isinstance(exc, UnexpectedCharacters):
            what = f"unexpected character `{text[pos]}`" if pos < len(text) else "unexpected end"
            expected = _describe_expected(exc.allowed or [])
        elif isinstance(exc, UnexpectedEOF):
            what = "the expression ends too early"
            pos = len(text)
            expected = _describe_expected(exc.expected or [])
        elif isinstance(exc, UnexpectedToken):
            tok = exc.token
            if tok.type == "$END":
                what = "the expression ends too early"
                pos = len(text)
            else:
                kind = {"NAME": "name ", "NUMBER": "number ", "STRING": "string "}.get(tok.type, "")
                what = f"unexpected {kind}`{tok}`"
                pos = tok.start_pos
                token_end = tok.end_pos
            expected = _describe_expected(exc.accepts or exc.expected or [])
        else:  # pragma: no cover
            what, expected = "syntax error", ""
        end = min(len(text), max(pos + 1, token_end))
        sp = self.span(pos, max(end, pos + 1), base) if pos < len(text) else self.span(max(0, len(text) - 1), len(text), base)
        hint = None
        if self.scalar.in_flow and self.scalar.style is None and _bracket_balance(text) != 0:
            hint = ("inside a YAML flow mapping `{...}` a comma ends the value: write the mapping in block style "
                    "(one `key: value` per line) or quote the whole expression")
        elif isinstance(exc, UnexpectedToken) and exc.token.type == "NAME" and " " in text.strip():
            hint = 'a plain string constant must be quoted inside the expression, e.g. \'"Payment Completed"\' in YAML'
        return Diagnostic("E101", Severity.ERROR, f"expression syntax error: {what}",
                          sp, notes=(f"expected {expected}",) if expected else (), hint=hint)


class _TemplateError(ValueError):
    pass


class _AlreadyReported(Exception):
    """A template hole failed to parse and said so: nothing more to report for the template."""


def _decode_text(raw: str) -> str:
    try:
        decoded: str = json.loads('"' + raw + '"', strict=False)
        return decoded
    except ValueError as exc:
        raise _TemplateError(f"bad escape in template: {exc}") from None


def _string_end(text: str, i: int) -> int | None:
    """Index just after the string literal whose quote is at ``i``; None if it never closes on its line."""
    quote = text[i]
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
        elif ch == quote:
            return j + 1
        elif ch == "\n":
            return None
        else:
            j += 1
    return None


def _lexical_mistake(text: str) -> tuple[str, int, int, str | None] | None:
    """The first string or template in ``text`` that is never closed, as (message, start, end, hint).

    Lark reports such a text as an unexpected character somewhere after the real mistake (or as
    `f` followed by a string); this scan finds the opening quote or brace. It runs only once the
    parser has failed, so it never reports valid text.
    """
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "f" and text.startswith('f"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            j = i + 2
            while j < n and text[j] != '"' and text[j] != "\n":
                if text[j] == "\\":
                    j += 2
                elif text.startswith("{{", j) or text.startswith("}}", j):
                    j += 2
                elif text[j] == "}":
                    return ("a lone `}` in a template", j, j + 1,
                            "write `}}` for a literal brace, or open the expression with `{`")
                elif text[j] == "{":
                    k = j + 1
                    while k < n and text[k] not in "}\n":
                        if text[k] in "\"'":
                            end = _string_end(text, k)
                            if end is None:
                                break
                            k = end
                        elif text[k] == "{":
                            break
                        else:
                            k += 1
                    if k >= n or text[k] != "}":
                        return ("unclosed `{` in a template: the expression it opens has no closing `}`", j, j + 1,
                                "close the expression with `}`, or write `{{` for a literal brace")
                    j = k + 1
                else:
                    j += 1
            if j >= n or text[j] != '"':
                return ('unterminated template: `f"` has no closing `"`', i, i + 2,
                        'end the template with `"` (templates cannot span lines)')
            i = j + 1
        elif ch in "\"'":
            end = _string_end(text, i)
            if end is None:
                return (f"unterminated string: the `{ch}` that opens it is never closed", i, i + 1,
                        f"end the string with `{ch}` on the same line (write `\\{ch}` for a {ch} inside it)")
            i = end
        else:
            i += 1
    return None


def _hole_end(body: str, i: int) -> int:
    """Index of the `}` closing the hole that opens at ``i`` (quotes skipped)."""
    j = i + 1
    quote = None
    while j < len(body):
        ch = body[j]
        if quote:
            if ch == "\\":
                j += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "}":
            return j
        j += 1
    raise _TemplateError("unclosed `{` in template")


def parse_scalar(scalar: YScalar) -> tuple[ast.Expr | None, list[Diagnostic]]:
    """The expression of a YAML scalar, and the problems with it.

    Cached per scalar (its text *and* its position): the AST and the
    diagnostics are immutable and depend on nothing else. Re-checking a file
    after an edit (``segmap lsp``) then builds the AST of the edited
    expressions only; the Lark tree cache below serves repeated texts at
    new positions."""
    expr, diags = _parse_scalar_cached(scalar)
    return expr, list(diags)


@lru_cache(maxsize=8192)
def _parse_scalar_cached(scalar: YScalar) -> tuple[ast.Expr | None, tuple[Diagnostic, ...]]:
    p = ExpressionParser(scalar)
    expr = p.parse()
    return expr, tuple(p.diagnostics)
