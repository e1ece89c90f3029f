"""Safe YAML loading that keeps a span for every node.

Built on PyYAML's event stream (the C parser when available) rather than
its composer: events arrive iteratively, so nesting depth, anchors,
aliases, explicit tags and duplicate keys can all be refused with a
located diagnostic before anything recursive happens, and no YAML type
resolution takes place — every scalar stays the text the user wrote.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from segmap.diagnostics.model import Diagnostic, Severity, Span

MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 32

try:  # the C parser is ~10x faster; fall back to pure Python
    _Loader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class YScalar:
    value: str
    span: Span
    style: str | None  # None plain, "'" or '"' quoted, "|" or ">" block
    offsets: tuple[tuple[int, int], ...] = field(repr=False, default=())
    in_flow: bool = False  # inside a YAML flow collection {...} / [...], where a comma ends the value
    # offsets[i] = (line, col) of value[i] in the file; empty when unknown

    def pos(self, i: int) -> tuple[int, int]:
        """(line, col) in the file of character ``i`` of the scalar's value."""
        if self.offsets:
            if i < len(self.offsets):
                return self.offsets[i]
            if self.offsets:
                line, col = self.offsets[-1]
                return line, col + 1 + (i - len(self.offsets))
        return self.span.line, self.span.col + i

    def sub_span(self, start: int, end: int) -> Span:
        line, col = self.pos(start)
        eline, ecol = self.pos(max(start, end - 1))
        return Span(self.span.file, line, col, eline, ecol + 1)


@dataclass(frozen=True, slots=True)
class YMap:
    items: tuple[tuple[YScalar, "YNode"], ...]
    span: Span

    def get(self, key: str):
        for k, v in self.items:
            if k.value == key:
                return v
        return None


@dataclass(frozen=True, slots=True)
class YSeq:
    items: tuple["YNode", ...]
    span: Span


YNode = YScalar | YMap | YSeq


def _span(file: str, start, end) -> Span:
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _offsets(text: str, start_index: int, end_index: int, value: str, style: str | None) -> tuple:
    """Map each character of a scalar's value back to its (line, col).

    Plain one-line scalars map directly. For quoted and block scalars YAML
    removes quotes, escapes, indentation and folds line breaks, so the
    value is aligned greedily against the raw source slice.
    """
    raw = text[start_index:end_index]
    # line/col of each raw character
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
    out = []
    j = 0
    n = len(raw)
    for ch in value:
        k = j
        while k < n and raw[k] != ch and not (ch == " " and raw[k] == "\n") and not (ch == "\n" and raw[k] == "\n"):
            k += 1
        if k >= n:  # could not align (escapes such as \u00e9): fall back to the last known position
            out.append(raw_pos[j] if j < n else (raw_pos[-1] if raw_pos else (line, col)))
            continue
        out.append(raw_pos[k])
        j = k + 1
    return tuple(out)


class YamlLoadError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def load_yaml(text: str, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    """Parse ``text`` into a YNode tree; never raises for bad input."""
    diags: list[Diagnostic] = []
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        diags.append(Diagnostic("E005", Severity.ERROR, f"mapping file is larger than {MAX_FILE_BYTES // 1024} KiB",
                                Span(file, 1, 1)))
        return None, diags
    stack: list[list] = []  # each frame: [kind, start_event, items, pending_key]
    root: YNode | None = None
    try:
        for ev in yaml.parse(text, Loader=_Loader):
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
                node: YNode = YScalar("", _span(file, ev.start_mark, ev.end_mark), None)
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
                    offs = _offsets(text, ev.start_mark.index, ev.end_mark.index, ev.value, ev.style)
                    in_flow = bool(stack) and bool(stack[-1][1].flow_style)
                    node = YScalar(ev.value, sp, ev.style or None, offs, in_flow)
                else:
                    if len(stack) >= MAX_DEPTH:
                        diags.append(Diagnostic("E005", Severity.ERROR, f"YAML nested deeper than {MAX_DEPTH} levels",
                                                _span(file, ev.start_mark, ev.end_mark)))
                        return None, diags
                    stack.append(["map" if isinstance(ev, yaml.MappingStartEvent) else "seq", ev, [], None])
                    continue
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                kind, start, items, _ = stack.pop()
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
                for k, _v in frame[2]:
                    if k.value == node.value:
                        diags.append(Diagnostic("E004", Severity.ERROR, f"duplicate key `{node.value}`", node.span,
                                                notes=(f"first given at line {k.span.line}",)))
                        break
                frame[3] = node
            else:
                frame[2].append((frame[3], node))
                frame[3] = None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        sp = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        msg = exc.problem or "invalid YAML"
        if exc.context:
            msg = f"{msg} ({exc.context})"
        diags.append(Diagnostic("E001", Severity.ERROR, f"YAML syntax error: {msg}", sp))
        return None, diags
    except yaml.YAMLError as exc:  # reader errors (bad characters) and the like
        mark = getattr(exc, "problem_mark", None)
        sp = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        diags.append(Diagnostic("E001", Severity.ERROR, f"YAML error: {exc}", sp))
        return None, diags
    return root, diags
