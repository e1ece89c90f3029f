"""The Segment calls a mapping makes for one envelope, for people.

Each call is shown as JSON with, beside every value, the mapping line it
came from (``← mapping.yaml:14``; ``(defaults)`` when it came from the
``defaults:`` section). Calls whose ``when:`` guard was false are listed as
not sent, and a run-time failure is shown like a diagnostic, at the
expression that failed.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from typing import Any

from segmap.authoring.term import Painter
from segmap.diagnostics.model import Diagnostic, Severity, Span
from segmap.dsl import ast


@dataclass
class Prov:
    """Where a value (and, for literal objects and lists, its parts) came from."""

    span: Span | None
    note: str = ""
    children: dict[str, "Prov"] | None = None  # a YAML mapping / {...}: per key
    items: list["Prov"] | None = None  # a [...] list: per item
    each: "Prov | None" = None  # map(list, x => ...): every item


def provenance(expr: ast.Expr, note: str = "") -> Prov:
    if isinstance(expr, ast.ObjectLit):
        return Prov(expr.span, note, children={e.key: provenance(e.value) for e in expr.entries})
    if isinstance(expr, ast.ListLit):
        return Prov(expr.span, note, items=[provenance(i) for i in expr.items])
    if isinstance(expr, ast.Call) and expr.func == "map" and len(expr.args) == 2 and isinstance(expr.args[1], ast.Lambda):
        return Prov(expr.span, note, each=provenance(expr.args[1].body))
    return Prov(expr.span, note)


@dataclass
class _Line:
    text: str  # plain
    painted: str
    origin: str | None = None


@dataclass
class _Renderer:
    paint: Painter
    lines: list[_Line] = field(default_factory=list)

    def scalar(self, v: Any) -> tuple[str, str]:
        text = json.dumps(v, ensure_ascii=False)
        if v is None or isinstance(v, bool):
            return text, self.paint("literal", text)
        if isinstance(v, (int, float)):
            return text, self.paint("number", text)
        return text, self.paint("string", text)

    def value(self, v: Any, prov: Prov | None, indent: int, key: str | None, comma: bool) -> None:
        pad = "  " * indent
        ktext = kpaint = ""
        if key is not None:
            ktext = json.dumps(key, ensure_ascii=False) + ": "
            kpaint = self.paint("key", json.dumps(key, ensure_ascii=False)) + ": "
        end = "," if comma else ""
        origin = _origin(prov)
        if isinstance(v, dict) and v:
            structured = prov is not None and prov.children is not None
            self.lines.append(_Line(pad + ktext + "{", pad + kpaint + "{", None if structured else origin))
            keys = list(v)
            for i, k in enumerate(keys):
                child = prov.children.get(k) if prov is not None and prov.children is not None else None
                self.value(v[k], child, indent + 1, k, i < len(keys) - 1)
            self.lines.append(_Line(pad + "}" + end, pad + "}" + end))
        elif isinstance(v, list) and v:
            per_item = prov is not None and (prov.items is not None or prov.each is not None)
            self.lines.append(_Line(pad + ktext + "[", pad + kpaint + "[", origin))
            for i, item in enumerate(v):
                child = None
                if prov is not None and prov.each is not None:
                    child = Prov(None, children=prov.each.children, items=prov.each.items, each=prov.each.each)
                elif prov is not None and prov.items is not None and i < len(prov.items):
                    child = prov.items[i]
                self.value(item, child if per_item else None, indent + 1, None, i < len(v) - 1)
            self.lines.append(_Line(pad + "]" + end, pad + "]" + end))
        else:
            text, painted = self.scalar(v) if not isinstance(v, (dict, list)) else (json.dumps(v), json.dumps(v))
            self.lines.append(_Line(pad + ktext + text + end, pad + kpaint + painted + end, origin))


def _origin(prov: Prov | None) -> str | None:
    if prov is None or prov.span is None:
        return None
    return f"{prov.span.file}:{prov.span.line}" + (f" {prov.note}" if prov.note else "")


def render_body(body: dict, provs: dict[str, Prov], paint: Painter, width: int | None = None) -> list[str]:
    r = _Renderer(paint)
    r.lines.append(_Line("{", "{"))
    keys = list(body)
    for i, k in enumerate(keys):
        r.value(body[k], provs.get(k), 1, k, i < len(keys) - 1)
    r.lines.append(_Line("}", "}"))
    longest = max((len(line.text) for line in r.lines if line.origin), default=0)
    width = width or shutil.get_terminal_size((100, 24)).columns
    column = min(longest, max(40, width - 36)) + 2
    out = []
    for line in r.lines:
        if line.origin:
            gap = " " * max(2, column - len(line.text))
            out.append(line.painted + gap + paint("dim", "← " + line.origin))
        else:
            out.append(line.painted)
    return out


def _label(kind: str, body: dict) -> str:
    name = body.get("event") if kind == "track" else body.get("name") if kind in ("page", "screen") else None
    return f'{kind} "{name}"' if isinstance(name, str) else kind


def expr_text(sources, expr) -> str:
    """One-line source text of an expression, for messages."""
    s = expr.span
    line = sources.line(s.file, s.line) if sources is not None else None
    if line is None:
        return "..."
    if s.end_line == s.line:
        return line[s.col - 1: s.end_col - 1].strip()
    return line[s.col - 1:].strip() + " ..."


def locate_failure(plan_calls, location: str) -> Span | None:
    """The span of the outermost expression starting at ``file:line:col``."""
    try:
        file, line, col = location.rsplit(":", 2)
        line_no, col_no = int(line), int(col)
    except ValueError:
        return None
    best: Span | None = None
    for pc in plan_calls:
        exprs = [f.value for f in pc.fields] + ([pc.spec.when] if pc.spec.when is not None else [])
        for e in exprs:
            for node in ast.walk(e):
                sp = node.span
                if sp is None or sp.file != file or sp.line != line_no or sp.col != col_no:
                    continue
                if best is None or (sp.end_line, sp.end_col) > (best.end_line, best.end_col):
                    best = sp
    return best


def preview(compiled, envelope: dict, what: str, paint: Painter, width: int | None = None) -> tuple[list[str], int]:
    """Lines to print and the exit status (0 shown, 1 the mapping failed on this envelope)."""
    from segmap.diagnostics.render import render_text
    from segmap.runtime.values import MappingRuntimeError

    result = compiled.check
    sources = result.sources
    event_type = envelope.get("type") if isinstance(envelope, dict) else None
    out = [paint("bold", f"{event_type} · {what} · {compiled.file}")]
    planned = result.plan.calls.get(event_type) if isinstance(event_type, str) else None
    if planned:
        # calls of a glob rule guarded by `type == "..."` for another event are not news
        planned = tuple(pc for pc in planned if pc.reachable)
    if planned is not None and not planned and event_type in result.plan.calls:
        out.append(f"no calls: every call for `{event_type}` is guarded by a `when:` on another event type")
        return out, 0
    if not planned:
        mapped = ", ".join(result.plan.calls) or "none"
        out.append(f"no calls: {compiled.file} does not map `{event_type}`")
        out.append(paint("dim", f"mapped events: {mapped}"))
        return out, 0
    try:
        calls = compiled.apply(envelope)
    except MappingRuntimeError as exc:
        span = locate_failure(planned, exc.location or "")
        if span is None and exc.location:
            try:
                f, ln, col = exc.location.rsplit(":", 2)
                span = Span(f, int(ln), int(col))
            except ValueError:
                span = None
        diag = Diagnostic("E501", Severity.ERROR, f"the mapping failed on this envelope: {exc.message}", span,
                          notes=(f"event {event_type}",))
        out.append("")
        out.append(render_text(diag, sources, paint.colour))
        return out, 1
    by_origin: dict[str, list] = {}
    for c in calls:
        by_origin.setdefault(c.origin, []).append(c)
    sent = len(calls)
    out.append(f"{sent} call{'s' if sent != 1 else ''}" + (f", {len(planned) - sent} not sent" if len(planned) > sent else ""))
    for i, pc in enumerate(planned, start=1):
        s = pc.spec.span
        origin = f"{s.file}:{s.line}:{s.col}"
        made = by_origin.get(origin)
        out.append("")
        if not made:
            when = expr_text(sources, pc.spec.when) if pc.spec.when is not None else "?"
            named = {f.name: f.value.value for f in pc.fields
                     if f.name in ("event", "name") and isinstance(f.value, ast.Literal)}
            label = _label(pc.spec.kind, named)
            out.append(paint("dim", f"[{i}] {label} not sent: when: {when} was false  ← {s.file}:{s.line}"))
            continue
        call = made.pop(0)
        body = json.loads(json.dumps(call.body))  # as sent
        out.append(paint("bold", f"[{i}] {_label(call.call, body)}") + "  " + paint("dim", f"← {s.file}:{s.line}"))
        provs = {f.name: provenance(f.value, "(defaults)" if f.from_defaults else "") for f in pc.fields}
        # `track: Name` has no expression: point the name at the call key
        for f in pc.fields:
            if isinstance(f.value, ast.Literal) and f.name in ("event", "name") and f.span == pc.spec.span:
                provs[f.name] = Prov(s)
        out.extend(render_body(body, provs, paint, width))
    out.append("")
    out.append(paint("dim", "segmap adds messageId (from the webhook id) and sentAt when it delivers a call."))
    return out, 0
