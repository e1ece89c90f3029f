"""The one place diagnostics become text: rustc-style for people, a stable
JSON schema for tools, and GitHub workflow annotations for CI."""
from __future__ import annotations

import json
from typing import Iterable, TextIO

from segmap.diagnostics.model import Diagnostic, Severity, SourceMap

JSON_SCHEMA_VERSION = 1

_COLOURS = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.NOTE: "\x1b[1;36m",
}
_BOLD = "\x1b[1m"
_BLUE = "\x1b[1;34m"
_RESET = "\x1b[0m"


def render_text(diag: Diagnostic, sources: SourceMap, colour: bool = False) -> str:
    def c(style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if colour else text

    head = c(_COLOURS[diag.severity], f"{diag.severity.value}[{diag.code}]") + c(_BOLD, f": {diag.message}")
    out = [head]
    span = diag.span
    if span is not None:
        gutter = " " * len(str(span.end_line if span.end_line else span.line))
        out.append(f"{gutter}{c(_BLUE, '-->')} {span.file}:{span.line}:{span.col}")
        src = sources.line(span.file, span.line)
        if src is not None:
            src = src.expandtabs(1)
            if span.end_line == span.line:
                width = max(1, span.end_col - span.col)
            else:
                width = max(1, len(src) - span.col + 1)
            caret = " " * (span.col - 1) + "^" * width
            if diag.label:
                caret += " " + diag.label
            out.append(f"{gutter} {c(_BLUE, '|')}")
            out.append(f"{c(_BLUE, str(span.line))} {c(_BLUE, '|')} {src}")
            out.append(f"{gutter} {c(_BLUE, '|')} {c(_COLOURS[diag.severity], caret)}")
        pad = gutter + " "
    else:
        pad = " "
    for note in diag.notes:
        out.append(f"{pad}{c(_BLUE, '=')} note: {note}")
    if diag.suggestion:
        out.append(f"{pad}{c(_BLUE, '=')} help: did you mean `{diag.suggestion}`?")
    if diag.hint:
        out.append(f"{pad}{c(_BLUE, '=')} hint: {diag.hint}")
    return "\n".join(out)


def render_summary(diags: list[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diags if d.severity is Severity.WARNING)
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts) if parts else "no problems"


def render_json(diags: Iterable[Diagnostic]) -> str:
    items = [d.to_json() for d in diags]
    return json.dumps({"version": JSON_SCHEMA_VERSION, "diagnostics": items}, indent=2, ensure_ascii=False)


def _gh_escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def render_github(diag: Diagnostic) -> str:
    kind = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}[diag.severity]
    props = []
    if diag.span:
        s = diag.span
        props += [f"file={_gh_escape(s.file, True)}", f"line={s.line}", f"col={s.col}"]
        if s.end_line == s.line:
            props.append(f"endColumn={s.end_col}")
    props.append(f"title={_gh_escape(diag.code, True)}")
    msg = diag.message
    if diag.suggestion:
        msg += f" (did you mean `{diag.suggestion}`?)"
    if diag.hint:
        msg += f"\nhint: {diag.hint}"
    return f"::{kind} {','.join(props)}::{_gh_escape(msg)}"


def write_diagnostics(diags: list[Diagnostic], sources: SourceMap, fmt: str, stream: TextIO, colour: bool) -> None:
    diags = sorted(diags, key=Diagnostic.sort_key)
    if fmt == "json":
        stream.write(render_json(diags) + "\n")
    elif fmt == "github":
        for d in diags:
            stream.write(render_github(d) + "\n")
    else:
        for d in diags:
            stream.write(render_text(d, sources, colour) + "\n\n")
