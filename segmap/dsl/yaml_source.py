"""Safe YAML loading that keeps a span for every node.

Built on PyYAML's event stream (the C parser when available) rather than
its composer: events arrive iteratively, so nesting depth, anchors,
aliases, explicit tags and duplicate keys can all be refused with a
located diagnostic before anything recursive happens, and no YAML type
resolution takes place — every scalar stays the text the user wrote.
"""
from __future__ import annotations

import re
from typing import Any

from segmap.dsl.pyyaml import yaml

from segmap.diagnostics.model import Diagnostic, Severity, Span
from segmap.diagnostics.text import first_surrogate, shorten
from segmap.errors import SegmapError
from segmap.record import Record

_set = object.__setattr__

MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 32

_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:  # the C parser is ~10x faster; fall back to pure Python
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


class _PreemptedByLibyaml(Exception):
    """libyaml (PyYAML >= 6.0.4) has a nesting limit of its own, hit while it scans ahead of
    the events we read, so it can fire before segmap's MAX_DEPTH does. Such a file is re-read
    with the pure-Python parser, which streams, so segmap's own bound reports its own code
    and location whichever parser is installed."""


class YScalar(Record):
    __slots__ = ("value", "span", "style", "offsets", "in_flow")
    _hidden = ("offsets",)
    value: str
    span: Span
    style: str | None  # None plain, "'" or '"' quoted, "|" or ">" block
    # offsets[i] = (line, col) of value[i] in the file, or (line, col, width) when value[i] is spelled
    # with `width` source characters (an escape); empty when unknown
    offsets: tuple[tuple[int, ...], ...]
    in_flow: bool  # inside a YAML flow collection {...} / [...], where a comma ends the value

    def __init__(self, value: str, span: Span, style: str | None, offsets: tuple[tuple[int, ...], ...] = (),
                 in_flow: bool = False) -> None:
        _set(self, "value", value)
        _set(self, "span", span)
        _set(self, "style", style)
        _set(self, "offsets", offsets)
        _set(self, "in_flow", in_flow)

    def pos(self, i: int) -> tuple[int, int]:
        """(line, col) in the file of character ``i`` of the scalar's value."""
        if self.offsets:
            if i < len(self.offsets):
                line, col = self.offsets[i][:2]
                return line, col
            line, col = self.offsets[-1][:2]
            return line, col + 1 + (i - len(self.offsets))
        return self.span.line, self.span.col + i

    def width(self, i: int) -> int:
        """How many source columns spell character ``i`` (2 for `\\"` or `''`, 6 for `\\u00e9`)."""
        if self.offsets and i < len(self.offsets) and len(self.offsets[i]) > 2:
            return self.offsets[i][2]
        return 1

    def sub_span(self, start: int, end: int) -> Span:
        if not self.offsets:  # what pos() and width() say then, without the calls: most scalars
            span = self.span
            return Span(span.file, span.line, span.col + start, span.line, span.col + max(start, end - 1) + 1)
        line, col = self.pos(start)
        last = max(start, end - 1)
        eline, ecol = self.pos(last)
        return Span(self.span.file, line, col, eline, ecol + self.width(last))


class YMap(Record):
    __slots__ = ("items", "span")
    items: tuple[tuple[YScalar, YNode], ...]
    span: Span

    def __init__(self, items: tuple[tuple[YScalar, YNode], ...], span: Span) -> None:
        _set(self, "items", items)
        _set(self, "span", span)

    def get(self, key: str) -> YNode | None:
        for k, v in self.items:
            if k.value == key:
                return v
        return None


class YSeq(Record):
    __slots__ = ("items", "span")
    items: tuple[YNode, ...]
    span: Span

    def __init__(self, items: tuple[YNode, ...], span: Span) -> None:
        _set(self, "items", items)
        _set(self, "span", span)


YNode = YScalar | YMap | YSeq


def _span(file: str, start: Any, end: Any) -> Span:
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _offsets(text: str, start_index: int, end_index: int, value: str, style: str | None,
             start_line: int = 0, start_col: int = 0) -> tuple[tuple[int, ...], ...]:
    """Map each character of a scalar's value back to its (line, col).

    Plain one-line scalars map directly: they get no table at all
    (``YScalar.pos`` counts from the span). For quoted and block scalars YAML
    removes quotes, escapes, indentation and folds line breaks, so the
    value is aligned greedily against the raw source slice.
    """
    if style is None and end_index - start_index == len(value) and "\n" not in value \
            and text.startswith(value, start_index):
        return ()  # a plain one-line scalar: YScalar.pos counts from the span
    raw = text[start_index:end_index]
    # line/col of each raw character (from the parser's mark when given: 0-based)
    if start_line or start_col:
        line, col = start_line + 1, start_col + 1
    else:
        line = text.count("\n", 0, start_index) + 1
        col = start_index - (text.rfind("\n", 0, start_index) + 1) + 1
    raw_pos = []
    for ch in raw:
        raw_pos.append((line, col))
        if ch == "\n":
            line += 1
            col = 1
        else:
            col += 1
    if style is None and raw == value:
        return tuple(raw_pos)
    # the characters the source spells, each with the position where its spelling starts:
    # the quotes of a quoted scalar spell nothing, an escape (`\"`, `\u00e9`, `''`) spells one character
    toks, tpos, twidth = _spelled(raw, style)
    pos_of = [raw_pos[i] + ((w,) if w != 1 else ()) for i, w in zip(tpos, twidth, strict=True)]
    out = []
    j = 0
    n = len(toks)
    for ch in value:
        k = j
        while k < n and toks[k] != ch and not (ch == " " and toks[k] == "\n") and not (ch == "\n" and toks[k] == "\n"):
            k += 1
        if k >= n:  # could not align: fall back to the last known position
            out.append(pos_of[j] if j < n else (pos_of[-1] if pos_of else (line, col)))
            continue
        out.append(pos_of[k])
        j = k + 1
    return tuple(out)


_DQ_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
               "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
               "L": "\u2028", "P": "\u2029"}
_DQ_HEX = {"x": 2, "u": 4, "U": 8}


def _spelled(raw: str, style: str | None) -> tuple[list[str], list[int], list[int]]:
    """(characters, index in ``raw`` of each, source width of each) of a scalar's source text,
    escapes decoded, quotes dropped."""
    if style not in ('"', "'") or len(raw) < 2 or raw[0] != style:
        return list(raw), list(range(len(raw))), [1] * len(raw)
    toks: list[str] = []
    tpos: list[int] = []
    twidth: list[int] = []
    i, end = 1, len(raw) - 1 if raw[-1] == style else len(raw)
    while i < end:
        ch, width = raw[i], 1
        if style == "'" and ch == "'" and i + 1 < end and raw[i + 1] == "'":
            width = 2
        elif style == '"' and ch == "\\" and i + 1 < end:
            e = raw[i + 1]
            if e in _DQ_HEX:
                width = 2 + _DQ_HEX[e]
                try:
                    ch = chr(int(raw[i + 2:i + width], 16))
                except (ValueError, OverflowError):
                    ch = ""
            elif e in _DQ_ESCAPES:
                ch, width = _DQ_ESCAPES[e], 2
            elif e in "\r\n":  # an escaped line break spells nothing
                i += 2
                continue
        toks.append(ch)
        tpos.append(i)
        twidth.append(width)
        i += width
    return toks, tpos, twidth


class YamlLoadError(SegmapError):
    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def load_yaml(text: str, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    """Parse ``text`` into a YNode tree; never raises for bad input."""
    try:
        return _load_yaml(text, file, _Loader)
    except _PreemptedByLibyaml:
        # The pure-Python scanner is quadratic in flow nesting (it re-checks every open `[` for
        # each token), and libyaml only stops at 1,000 levels: 2,000 `[` took seconds. segmap's
        # bound fires at MAX_DEPTH, so the text up to a little past that depth is enough to
        # report it at the same place; anything else falls back to the whole text.
        cut = _flow_depth_index(text, MAX_DEPTH + 2)
        if cut is not None:
            root, diags = _load_yaml(text[:cut], file, yaml.SafeLoader)
            if any(d.code == "E005" for d in diags):
                return root, diags
        return _load_yaml(text, file, yaml.SafeLoader)


def _flow_depth_index(text: str, depth: int) -> int | None:
    """Index just after the `[`/`{` at which bracket nesting first reaches ``depth`` (quotes skipped
    roughly: a miss only costs the slow path), or None."""
    level = 0
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            level += 1
            if level >= depth:
                return i + 1
        elif ch in "]}":
            level = max(0, level - 1)
    return None


def _load_yaml(text: str, file: str, loader: Any) -> tuple[YNode | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        diags.append(Diagnostic("E005", Severity.ERROR, f"mapping file is larger than {MAX_FILE_BYTES // 1024} KiB",
                                Span(file, 1, 1)))
        return None, diags
    bad = first_surrogate(text)
    if bad is not None:  # only a str built in Python can hold one (a file is decoded as strict UTF-8)
        line = text.count("\n", 0, bad) + 1
        col = bad - (text.rfind("\n", 0, bad) + 1) + 1
        diags.append(Diagnostic("E001", Severity.ERROR, f"the text holds an unpaired surrogate U+{ord(text[bad]):04X}, "
                                "which is not a Unicode character", Span(file, line, col)))
        return None, diags
    stack: list[list[Any]] = []  # each frame: [kind, start_event, items, pending_key, {key text: first key node}]
    root: YNode | None = None
    try:
        for ev in yaml.parse(text, Loader=loader):
            if isinstance(ev, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(ev, yaml.DocumentStartEvent):
                if root is not None:
                    diags.append(Diagnostic("E010", Severity.ERROR, "a mapping file holds one YAML document, found a second",
                                            _span(file, ev.start_mark, ev.end_mark)))
                    break
                continue
            if isinstance(ev, yaml.AliasEvent):
                diags.append(Diagnostic("E002", Severity.ERROR, f"YAML alias `*{ev.anchor}` is not allowed",
                                        _span(file, ev.start_mark, ev.end_mark),
                                        hint="write the value out, or put shared fields under `defaults:`"))
                # placeholder, style "*": already reported, so later stages stay quiet about it
                node: YNode = YScalar("", _span(file, ev.start_mark, ev.end_mark), "*")
            elif isinstance(ev, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if ev.anchor is not None:
                    diags.append(Diagnostic("E002", Severity.ERROR, f"YAML anchor `&{ev.anchor}` is not allowed",
                                            _span(file, ev.start_mark, ev.end_mark),
                                            hint="write the value out, or put shared fields under `defaults:`"))
                explicit_tag = ev.tag is not None and not (
                    isinstance(ev, yaml.ScalarEvent) and ev.implicit[0] is True) and not (
                    not isinstance(ev, yaml.ScalarEvent) and ev.implicit)
                if explicit_tag and ev.tag is not None and ev.tag != "!":
                    diags.append(Diagnostic("E003", Severity.ERROR, f"YAML tag `{ev.tag}` is not allowed",
                                            _span(file, ev.start_mark, ev.end_mark),
                                            hint="remove the tag; values are read as written"))
                if isinstance(ev, yaml.ScalarEvent):
                    sp = _span(file, ev.start_mark, ev.end_mark)
                    # libyaml calls the plain style "", the pure-Python parser None: one plain style here
                    start, end = ev.start_mark, ev.end_mark
                    assert start is not None and end is not None  # the parser marks every event
                    offs = _offsets(text, start.index, end.index, ev.value, ev.style or None, start.line, start.column)
                    in_flow = bool(stack) and bool(stack[-1][1].flow_style)
                    node = YScalar(ev.value, sp, ev.style or None, offs, in_flow)
                    bad = first_surrogate(ev.value)
                    if bad is not None:  # libyaml refuses `"\ud800"`; the pure-Python parser lets it through
                        diags.append(Diagnostic("E001", Severity.ERROR, f"`\\u{ord(ev.value[bad]):04x}` is half of a "
                                                "surrogate pair, not a character: no UTF-8 text can hold it",
                                                node.sub_span(bad, bad + 1)))
                else:
                    if len(stack) >= MAX_DEPTH:
                        diags.append(Diagnostic("E005", Severity.ERROR, f"YAML nested deeper than {MAX_DEPTH} levels",
                                                _span(file, ev.start_mark, ev.end_mark)))
                        return None, diags
                    stack.append(["map" if isinstance(ev, yaml.MappingStartEvent) else "seq", ev, [], None, {}])
                    continue
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                kind, start, items, _, _ = stack.pop()
                sp = _span(file, start.start_mark, ev.end_mark)
                if kind == "map":
                    node = YMap(tuple(items), sp)
                else:
                    node = YSeq(tuple(items), sp)
            else:  # pragma: no cover - no other event kinds exist
                continue
            if not stack:
                root = node
                continue
            frame = stack[-1]
            if frame[0] == "seq":
                frame[2].append(node)
            elif frame[3] is None:
                if not isinstance(node, YScalar):
                    diags.append(Diagnostic("E010", Severity.ERROR, "mapping keys must be plain text, not a mapping or list",
                                            node.span))
                    node = YScalar("", node.span, None)
                first = frame[4].setdefault(node.value, node)  # a dict per mapping: linear in the number of keys
                if first is not node:
                    diags.append(Diagnostic("E004", Severity.ERROR, f"duplicate key `{shorten(first.value)}`", node.span,
                                            notes=(f"first given at line {first.span.line}",)))
                frame[3] = node
            else:
                frame[2].append((frame[3], node))
                frame[3] = None
    except yaml.MarkedYAMLError as exc:
        if loader is not yaml.SafeLoader and "nesting" in (exc.problem or ""):
            raise _PreemptedByLibyaml from exc
        from segmap.dsl.yaml_errors import explain

        why = explain(exc, text, file)
        diags.append(Diagnostic("E001", Severity.ERROR, why.message, why.span, notes=why.notes, hint=why.hint,
                                suggestion=why.suggestion))
        return None, diags
    except yaml.YAMLError as exc:  # reader errors (bad characters) and the like
        mark = getattr(exc, "problem_mark", None)
        sp = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        diags.append(Diagnostic("E001", Severity.ERROR, f"YAML error: {exc}", sp))
        return None, diags
    return root, diags


# --- YAML meaning: plain scalars that other YAML readers would not read as text ----
#
# segmap keeps every scalar as the text written, but YAML 1.1 readers (PyYAML,
# many CI tools) and YAML 1.2 readers (editors' language servers, JSON Schema
# validation) resolve some plain scalars to booleans, null or numbers. Where
# a mapping means a name or text, such a scalar is ambiguous: `on:` is the key
# True to those tools, `track: no` an event named False, `012` the number 10.

# (YAML 1.1 also lists y/n, but PyYAML and most readers do not apply it; neither do we)
_YAML_BOOLS = {w: w.lower() in ("yes", "true", "on")
               for base in ("yes", "no", "true", "false", "on", "off")
               for w in (base, base.capitalize(), base.upper())}
_YAML_NULLS = ("~", "null", "Null", "NULL")
# the spellings YAML 1.1 readers take for booleans and YAML 1.2 readers for text: the JSON
# Schema refuses them as names, so that editors of either YAML version flag `track: yes`
YAML11_BOOL_WORDS = tuple(sorted(_YAML_BOOLS))
_RE_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_RE_OCT11 = re.compile(r"[-+]?0[0-7_]+")
_RE_OCT12 = re.compile(r"0o[0-7]+")
_RE_HEX = re.compile(r"[-+]?0x[0-9a-fA-F_]+")
_RE_BIN = re.compile(r"[-+]?0b[01_]+")
_RE_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+")
_RE_SEXA = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_RE_SPECIAL = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
# YAML 1.1's timestamp type (PyYAML reads `2025-03-01` as a date); as a segmap expression the same
# text is a subtraction, 2025 - 3 - 1, or a syntax error
_RE_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
                      r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
                      r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?")


def yaml_reading(node: YNode) -> tuple[str, str, object] | None:
    """How YAML 1.1/1.2 readers would type a plain scalar that segmap reads as text.

    Returns ``(kind, description, value)`` -- kind is "bool", "null",
    "number" or "date" (the value is then the text) -- or None when every reader agrees it is text (quoted scalars,
    block scalars, ordinary words).
    """
    if not isinstance(node, YScalar) or node.style is not None:
        return None
    v = node.value
    if v in _YAML_BOOLS:
        b = _YAML_BOOLS[v]
        return "bool", f"the boolean {'true' if b else 'false'}", b
    if v in _YAML_NULLS:
        return "null", "null", None
    if not v or not (v[0].isdigit() or v[0] in "+-."):
        return None
    if _RE_DATE.fullmatch(v):
        return "date", f"the {'date' if len(v) <= 10 else 'time'} {v} (YAML 1.1)", v
    n: int | float
    try:
        if _RE_OCT11.fullmatch(v) and v.strip("+-").replace("_", "") != "0":
            n = int(v.replace("_", ""), 8)
            return "number", f"the octal number {n} (YAML 1.1)", n
        if _RE_OCT12.fullmatch(v):
            n = int(v[2:], 8)
            return "number", f"the octal number {n}", n
        if _RE_HEX.fullmatch(v):
            n = int(v.replace("_", ""), 16)
            return "number", f"the number {n}", n
        if _RE_BIN.fullmatch(v):
            n = int(v.replace("_", ""), 2)
            return "number", f"the number {n} (YAML 1.1)", n
        if _RE_INT.fullmatch(v):
            n = int(v.replace("_", ""))
            return "number", f"the number {n}", n
        if _RE_SEXA.fullmatch(v):
            sign = -1 if v.startswith("-") else 1
            total = 0.0
            for part in v.lstrip("+-").replace("_", "").split(":"):
                total = total * 60 + float(part)
            n = sign * (int(total) if total.is_integer() else total)
            return "number", f"the number {n} (YAML 1.1 base 60)", n
        if _RE_FLOAT.fullmatch(v) and any(ch.isdigit() for ch in v):
            n = float(v.replace("_", ""))
            return "number", f"the number {n!r}", n
        if _RE_SPECIAL.fullmatch(v):
            return "number", f"the number {v.lower().lstrip('+')}", None
    except (ValueError, OverflowError):  # pragma: no cover - the patterns only admit valid numbers
        return None
    return None
