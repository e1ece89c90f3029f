"""The one place diagnostics become text: rustc-style for people, a stable
JSON schema for tools, and GitHub workflow annotations for CI.

Text (``render_text``)::

    error[E203]: `data.customer` (object CustomerLimitedDetails) has no field `customer_idd`
     --> segmap.yaml:5:29
      |
    5 |       userId: data.customer.customer_idd
      |                             ^^^^^^^^^^^^ unknown field
      = note: ...
      = help: did you mean `customer_id`?
      |
    5 |       userId: data.customer.customer_id
      |                             ~~~~~~~~~~~
      = hint: ...

A suggestion always replaces the text under the caret; for one-line spans
the fixed line is shown under ``help``. Colour is used only when asked for
(``colour=True``; `segmap check` does so on a terminal without NO_COLOR).

JSON (``render_json`` / ``json_document``), version 1::

    {"version": 1,
     "diagnostics": [{"code", "severity": "error"|"warning"|"note", "title", "message",
                      "file", "line", "column", "end_line", "end_column",   (1-based, end exclusive)
                      "notes": [str], "suggestion": str|null, "hint": str|null}],
     "summary": {"errors": int, "warnings": int, "files": int},
     "coverage": {FILE: {"mapped": int, "total": int, "unmapped": [event type]}}   (only with --coverage)}

Fields are only ever added, never renamed or removed, within a version.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, TextIO

from segmap.diagnostics.model import Diagnostic, Severity, SourceMap
from segmap.diagnostics.text import escape_surrogates, window

MAX_SHOWN_LINE = 120  # characters of a source line shown around the caret

JSON_SCHEMA_VERSION = 1

_COLOURS = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.NOTE: "\x1b[1;36m",
}
_BOLD = "\x1b[1m"
_BLUE = "\x1b[1;34m"
_GREEN = "\x1b[1;32m"
_RESET = "\x1b[0m"


def _title(code: str) -> str | None:
    from segmap.diagnostics.codes import CODES

    info = CODES.get(code)
    return info.title if info else None


def _display_col(src: str, col: int) -> int:
    """Columns count characters; wide characters (CJK, emoji) take two cells on a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in src[:max(0, col - 1)]) + 1


def render_text(diag: Diagnostic, sources: SourceMap, colour: bool = False) -> str:
    def c(style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if colour else text

    head = c(_COLOURS[diag.severity], f"{diag.severity.value}[{diag.code}]") + c(_BOLD, f": {diag.message}")
    out = [head]
    span = diag.span
    src = None
    if span is not None:
        gutter = " " * len(str(max(span.line, span.end_line or span.line)))
        out.append(f"{gutter}{c(_BLUE, '-->')} {span.file}:{span.line}:{span.col}")
        src = sources.line(span.file, span.line)
        if src is not None:
            src = src.expandtabs(1)
            # a long line (minified YAML, a 100 KB flow list) is shown around the caret only,
            # so the output of one diagnostic stays bounded whatever the input
            end_col = span.end_col if span.end_line == span.line else len(src) + 1
            src, col0, end0 = window(src, span.col - 1, end_col - 1, MAX_SHOWN_LINE)
            start = _display_col(src, col0 + 1)
            width = max(1, _display_col(src, end0 + 1) - start)
            caret = " " * (start - 1) + "^" * width
            if diag.label:
                caret += " " + diag.label
            out.append(f"{gutter} {c(_BLUE, '|')}")
            out.append(f"{c(_BLUE, str(span.line))} {c(_BLUE, '|')} {src}")
            out.append(f"{gutter} {c(_BLUE, '|')} {c(_COLOURS[diag.severity], caret)}")
            if span.end_line > span.line:
                out.append(f"{gutter} {c(_BLUE, '|')} {c(_BLUE, '...')} (to line {span.end_line})")
        pad = gutter + " "
    else:
        gutter = ""
        pad = " "
    for note in diag.notes:
        out.append(f"{pad}{c(_BLUE, '=')} note: {note}")
    if diag.suggestion:
        out.append(f"{pad}{c(_BLUE, '=')} help: did you mean `{diag.suggestion}`?")
        if span is not None and src is not None and span.end_line == span.line and "\n" not in diag.suggestion:
            fixed = src[:col0] + diag.suggestion + src[end0:]
            start = _display_col(fixed, col0 + 1)
            width = max(1, _display_col(fixed, col0 + 1 + len(diag.suggestion)) - start)
            out.append(f"{gutter} {c(_BLUE, '|')}")
            out.append(f"{c(_BLUE, str(span.line))} {c(_BLUE, '|')} {fixed}")
            out.append(f"{gutter} {c(_BLUE, '|')} {c(_GREEN, ' ' * (start - 1) + '~' * width)}")
    if diag.hint:
        out.append(f"{pad}{c(_BLUE, '=')} hint: {diag.hint}")
    return escape_surrogates("\n".join(out))


def render_summary(diags: list[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diags if d.severity is Severity.WARNING)
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    from segmap.diagnostics.cap import hidden_count

    hidden = sum(hidden_count(d) for d in diags)
    if hidden:  # the cap of diagnostics per file left some out (N001): say so in the summary too
        parts.append(f"{hidden} more not shown")
    return ", ".join(parts) if parts else "no problems"


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    out = d.to_json()
    # insert the catalogue title right after the severity (dicts keep insertion order)
    ordered = {"code": out.pop("code"), "severity": out.pop("severity"), "title": _title(d.code)}
    ordered.update(out)
    return ordered


def json_document(diags: Iterable[Diagnostic], files: int | None = None,
                  coverage: dict[str, Any] | None = None) -> dict[str, Any]:
    items = [diagnostic_json(d) for d in diags]
    doc: dict[str, Any] = {"version": JSON_SCHEMA_VERSION, "diagnostics": items}
    doc["summary"] = {
        "errors": sum(1 for d in items if d["severity"] == "error"),
        "warnings": sum(1 for d in items if d["severity"] == "warning"),
        "files": files if files is not None else len({d["file"] for d in items if d["file"]}),
        # inputs that could not be read at all (each is also an E000 error above)
        "unreadable": sum(1 for d in items if d["code"] == "E000"),
    }
    if coverage is not None:
        doc["coverage"] = coverage
    return doc


def render_json(diags: Iterable[Diagnostic], files: int | None = None, coverage: dict[str, Any] | None = None) -> str:
    return escape_surrogates(json.dumps(json_document(diags, files, coverage), indent=2, ensure_ascii=False))


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
        else:
            props.append(f"endLine={s.end_line}")
    title = _title(diag.code)
    props.append(f"title={_gh_escape(diag.code + (' ' + title if title else ''), True)}")
    msg = diag.message
    if diag.suggestion:
        msg += f" (did you mean `{diag.suggestion}`?)"
    for note in diag.notes:
        msg += f"\nnote: {note}"
    if diag.hint:
        msg += f"\nhint: {diag.hint}"
    return escape_surrogates(f"::{kind} {','.join(props)}::{_gh_escape(msg)}")


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
