"""The diagnostic record shared by every stage.

Every stage (YAML loading, expression parsing, checking, code generation,
run-time failures) reports through :class:`Diagnostic` so that one
renderer (``render.py``) decides how problems look, and JSON output has
one stable schema.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns are 1-based, end exclusive."""

    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __post_init__(self) -> None:
        if self.end_line == 0:
            object.__setattr__(self, "end_line", self.line)
        if self.end_col == 0 or (self.end_line == self.line and self.end_col <= self.col):
            object.__setattr__(self, "end_col", self.col + 1)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A located problem with a stable code.

    ``message`` says what is wrong; ``notes`` add context (for example which
    event the rule was checked for); ``suggestion`` is a did-you-mean
    replacement; ``hint`` says how to fix it.
    """

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    notes: tuple[str, ...] = ()
    suggestion: str | None = None
    hint: str | None = None
    label: str | None = field(default=None)

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
