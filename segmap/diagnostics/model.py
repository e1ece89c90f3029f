"""The diagnostic record shared by every stage.

Every stage (YAML loading, expression parsing, checking, code generation,
run-time failures) reports through :class:`Diagnostic` so that one
renderer (``render.py``) decides how problems look, and JSON output has
one stable schema.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Iterable

from segmap.record import Record

_set = object.__setattr__


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Span(Record):
    """A region of a source file; lines and columns are 1-based, end exclusive. An end left out
    (0) or not after the start is one column past the start."""

    __slots__ = ("file", "line", "col", "end_line", "end_col")
    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __init__(self, file: str, line: int, col: int, end_line: int = 0, end_col: int = 0) -> None:
        if end_line == 0:
            end_line = line
        if end_col == 0 or (end_line == line and end_col <= col):
            end_col = col + 1
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "col", col)
        _set(self, "end_line", end_line)
        _set(self, "end_col", end_col)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Diagnostic(Record):
    """A located problem with a stable code.

    ``message`` says what is wrong; ``notes`` add context (for example which
    event the rule was checked for); ``suggestion`` is a did-you-mean
    replacement; ``hint`` says how to fix it.
    """

    __slots__ = ("code", "severity", "message", "span", "notes", "suggestion", "hint", "label")
    code: str
    severity: Severity
    message: str
    span: Span | None
    notes: tuple[str, ...]
    suggestion: str | None
    hint: str | None
    label: str | None

    def __init__(self, code: str, severity: Severity, message: str, span: Span | None = None,
                 notes: tuple[str, ...] = (), suggestion: str | None = None, hint: str | None = None,
                 label: str | None = None) -> None:
        _set(self, "code", code)
        _set(self, "severity", severity)
        _set(self, "message", message)
        _set(self, "span", span)
        _set(self, "notes", notes)
        _set(self, "suggestion", suggestion)
        _set(self, "hint", hint)
        _set(self, "label", label)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        s = self.span
        return (s.file, s.line, s.col, self.code) if s else ("", 0, 0, self.code)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.span.file if self.span else None,
            "line": self.span.line if self.span else None,
            "column": self.span.col if self.span else None,
            "end_line": self.span.end_line if self.span else None,
            "end_column": self.span.end_col if self.span else None,
            "notes": list(self.notes),
            "suggestion": self.suggestion,
            "hint": self.hint,
        }
        return out


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)


class SourceMap(dict[str, str]):
    """file name -> source text, so the renderer can show the offending line."""

    def line(self, file: str, lineno: int) -> str | None:
        text = self.get(file)
        if text is None:
            return None
        lines = text.splitlines()
        if 1 <= lineno <= len(lines):
            return lines[lineno - 1]
        return None
