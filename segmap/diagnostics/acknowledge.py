"""Acknowledged warnings: `# segmap: allow CODE` comments and `--ignore`.

A warning can be a deliberate choice (the seed's `fixed(x / 100, 2)` sends
text on purpose), and `--strict` should still pass once the author has said
so, where the choice is made. As ruff's `noqa`:

- ``# segmap: allow W430`` at the end of a line acknowledges the listed
  warnings reported on that line, or inside the value that starts on it
  (a block scalar or a nested mapping below the key);
- ``# segmap: allow-file W410, W430`` on a line of its own acknowledges
  them anywhere in the file;
- ``segmap check --ignore W410,W430`` does the same from the command line.

Codes may be separated by commas or spaces; anything after ``--`` is a
reason for the reader. Errors cannot be acknowledged: naming one is
reported (W015) and the error stays. An acknowledgement that matches no
diagnostic is reported too (W014), so stale ones do not pile up.

YAML comments never reach the AST (PyYAML drops them), so the comments are
found in the source text: a ``#`` that starts the line or follows a space
or tab, as YAML requires of a comment.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from segmap.diagnostics.model import Diagnostic, Severity, Span
from segmap.record import MutableRecord

_COMMENT = re.compile(r"(?:^|[ \t])#[ \t]*segmap:[ \t]*(allow-file|allow)\b(.*)$")
_CODE = re.compile(r"[EW]\d{3}")


class Acknowledgement(MutableRecord):
    """One ``allow`` comment: the codes it names and the lines it covers."""

    _fields = ("span", "codes", "code_spans", "first_line", "last_line", "used")  # a __dict__, as a dataclass has (weak references, extra attributes)
    span: Span  # the comment
    codes: tuple[str, ...]
    code_spans: dict[str, Span]  # where each code is written, for W014/W015
    first_line: int  # 0 for the whole file
    last_line: int
    used: set[str]

    def __init__(self, span: Span, codes: tuple[str, ...], code_spans: dict[str, Span], first_line: int,
                 last_line: int, used: set[str] | None = None) -> None:
        self.span = span
        self.codes = codes
        self.code_spans = code_spans
        self.first_line = first_line
        self.last_line = last_line
        self.used = set() if used is None else used

    def covers(self, d: Diagnostic) -> bool:
        if d.code not in self.codes or d.span is None:
            return False
        return self.first_line == 0 or self.first_line <= d.span.line <= self.last_line


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _value_end(lines: list[str], i: int) -> int:
    """The last line (0-based) of the value that starts on line ``i``: the
    following lines indented deeper than line ``i`` (blank lines included)."""
    base = _indent(lines[i])
    end = i
    for j in range(i + 1, len(lines)):
        text = lines[j]
        if not text.strip():
            continue
        if _indent(text) <= base:
            break
        end = j
    return end


def _codes(rest: str, offset: int) -> tuple[list[tuple[str, int]], str]:
    """The codes of ``W410, W430 -- reason`` with their 0-based columns
    (``rest`` starts at column ``offset``), and the words that are not codes."""
    rest = rest.split("--", 1)[0]
    codes: list[tuple[str, int]] = []
    junk: list[str] = []
    for m in re.finditer(r"[^\s,]+", rest):
        word = m.group().upper()
        if _CODE.fullmatch(word):
            codes.append((word, offset + m.start()))
        else:
            junk.append(m.group())
    return codes, " ".join(junk)


def find(text: str, filename: str) -> tuple[list[Acknowledgement], list[Diagnostic]]:
    """The ``allow`` comments of a mapping file, and the problems with them."""
    acks: list[Acknowledgement] = []
    problems: list[Diagnostic] = []
    if "segmap:" not in text:
        return acks, problems
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "segmap:" not in line:
            continue
        m = _COMMENT.search(line)
        if m is None:
            continue
        kind, rest = m.group(1), m.group(2)
        col = m.start() + (1 if line[m.start()] in " \t" else 0) + 1
        span = Span(filename, i + 1, col, i + 1, len(line) + 1)
        found, junk = _codes(rest, m.start(2))
        codes = [c for c, _ in found]
        code_spans = {c: Span(filename, i + 1, at + 1, i + 1, at + 1 + len(c)) for c, at in found}
        if not codes:
            problems.append(Diagnostic(
                "W014", Severity.WARNING, f"`segmap: {kind}` names no diagnostic code", span,
                hint=f"write the codes to acknowledge: `# segmap: {kind} W430`"
                + (f" (`{junk}` is not a code)" if junk else "")))
            continue
        if kind == "allow-file":
            if line[:m.start()].strip():
                problems.append(Diagnostic(
                    "W014", Severity.WARNING, "`segmap: allow-file` must be a comment line of its own", span,
                    hint="move it to a line of its own (at the top of the file, say), or use `allow` for this line"))
                continue
            acks.append(Acknowledgement(span, tuple(codes), code_spans, 0, 0))
        else:
            acks.append(Acknowledgement(span, tuple(codes), code_spans, i + 1, _value_end(lines, i) + 1))
    return acks, problems


def apply(diagnostics: list[Diagnostic], text: str, filename: str,
          ignore: Iterable[str] = ()) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Split ``diagnostics`` into (still reported, acknowledged).

    The reported list gains W014 for an ``allow`` matching nothing and W015
    for one naming an error code. ``ignore`` (the command line's codes)
    drops warnings without being reported when unused.
    """
    ignored = {c.upper() for c in ignore}
    acks, problems = find(text, filename)
    if not acks and not ignored:
        return diagnostics + problems, []
    kept: list[Diagnostic] = []
    acknowledged: list[Diagnostic] = []
    for d in diagnostics:
        if d.severity is Severity.ERROR:
            kept.append(d)
            continue
        by = [a for a in acks if a.covers(d)]
        for a in by:
            a.used.add(d.code)
        if by or d.code in ignored:
            acknowledged.append(d)
        else:
            kept.append(d)
    for a in acks:
        for code in a.codes:
            if code.startswith("E"):
                problems.append(Diagnostic(
                    "W015", Severity.WARNING, f"`{code}` is an error: errors cannot be acknowledged", a.code_spans[code],
                    notes=("an error means the mapping cannot work as written; fix it instead",)))
            elif code not in a.used:
                where = "in this file" if a.first_line == 0 else (
                    f"on line {a.first_line}" if a.last_line == a.first_line else
                    f"on lines {a.first_line}-{a.last_line}")
                problems.append(Diagnostic(
                    "W014", Severity.WARNING, f"`{code}` is acknowledged but not reported {where}", a.code_spans[code],
                    hint=f"remove `{code}` from the comment"))
    return sorted(kept + problems, key=Diagnostic.sort_key), acknowledged


def error_codes(codes: Iterable[str]) -> list[str]:
    """The codes of ``codes`` that are errors (which ``--ignore`` refuses)."""
    return [c for c in codes if c.upper().startswith("E")]


__all__ = ["Acknowledgement", "apply", "error_codes", "find"]
