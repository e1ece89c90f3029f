"""YAML syntax errors located at the mistake, with a hint, instead of where the parser gave up.

PyYAML (and libyaml, with the same messages) reports where it could not go on: for a
missing `:` that is the line *after* the key (past the end of the file when the key is
on the last line), for an unclosed `[` or `{` the first token after the list, often the
next line or the end of the file. Each error carries a second mark, the start of what it
was reading (the key, the bracket, the quote); for the mistakes people make, that mark
and the text around it say where the fix goes. `explain` turns one `MarkedYAMLError`
into (span, message, notes, hint, suggestion); the catalogue has one file per case
(tests/check/catalogue/y*.yaml).
"""
from __future__ import annotations

from dataclasses import dataclass

from segmap.dsl.pyyaml import yaml

from segmap.diagnostics.model import Span


@dataclass(frozen=True)
class SyntaxExplanation:
    span: Span
    message: str
    notes: tuple[str, ...] = ()
    hint: str | None = None
    suggestion: str | None = None


def _line_text(text: str, line0: int) -> str:
    lines = text.split("\n")
    return lines[line0] if 0 <= line0 < len(lines) else ""


def _strip_comment(line: str) -> str:
    """The line without a trailing ` # comment` (good enough for a key line: no quotes there)."""
    cut = line.find(" #")
    return (line[:cut] if cut >= 0 else line).rstrip()


def _previous_content_line(text: str, line0: int) -> tuple[int, str] | None:
    """The nearest line above `line0` that is neither blank nor only a comment."""
    lines = text.split("\n")
    for i in range(min(line0, len(lines)) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return i, lines[i]
    return None


def _missing_colon_above(text: str, mark: yaml.Mark, *,
                         same_indent: bool) -> tuple[tuple[int, int, int, int], str, str | None] | None:
    """((line, col, end_line, end_col), message, suggestion) when the nearest content line above
    the error is a bare `key` or `key value` (no colon at all), else None."""
    prev = _previous_content_line(text, mark.line)
    if prev is None:
        return None
    line0, line = prev
    body = _strip_comment(line)
    indent = len(body) - len(body.lstrip(" "))
    if same_indent and indent != mark.column:
        return None
    col0 = indent + 2 if body[indent:].startswith("- ") else indent
    key_text = body[col0:]
    if not key_text or ":" in key_text or key_text.startswith(("#", "'", '"', "[", "{", "|", ">", "-")):
        return None
    head, sep, rest = key_text.partition(" ")
    if sep and rest.strip():
        suggestion = f"{head}: {rest.strip()}"
        msg = f"`{key_text}` is not a `key: value` pair: the `:` after `{head}` is missing"
    else:
        suggestion, msg = f"{key_text}:", f"the key `{key_text}` has no `:` after it"
    return (line0 + 1, col0 + 1, line0 + 1, col0 + 1 + len(key_text)), msg, suggestion


def _last_content_position(text: str) -> tuple[int, int]:
    """(line0, col0) just after the last non-blank character: where "end of file" is shown."""
    stripped = text.rstrip()
    if not stripped:
        return 0, 0
    line0 = stripped.count("\n")
    return line0, len(stripped) - (stripped.rfind("\n") + 1)


def _tab_message(text: str, index: int) -> tuple[str, tuple[str, ...]]:
    line_start = text.rfind("\n", 0, index) + 1
    if not text[line_start:index].strip(" \t"):
        return "a tab in the indentation", ("YAML indentation is spaces only; a tab is not whitespace there",)
    return "a tab where YAML expects a value or a key", ()


_CLOSER = {"flow sequence": ("[", "]", "list"), "flow mapping": ("{", "}", "mapping")}


def explain(exc: yaml.MarkedYAMLError, text: str, file: str) -> SyntaxExplanation:
    problem = exc.problem or "invalid YAML"
    context = exc.context or ""
    start = exc.context_mark
    mark = exc.problem_mark if exc.problem_mark is not None else start
    if mark is None:
        return SyntaxExplanation(Span(file, 1, 1), f"YAML syntax error: {problem}")
    at_eof = mark.index >= len(text.rstrip())

    # a tab the scanner refused
    if text[mark.index:mark.index + 1] == "\t":
        msg, tab_notes = _tab_message(text, mark.index)
        return SyntaxExplanation(Span(file, mark.line + 1, mark.column + 1), f"YAML syntax error: {msg}", tab_notes,
                                 "indent with spaces (YAML does not allow tabs there)")

    # a key without its `:` -- the scanner notices on the next line (or at the end of the file)
    if "simple key" in context and "':'" in problem and start is not None:
        line = _strip_comment(_line_text(text, start.line))
        key_text = line[start.column:].rstrip()
        span = Span(file, start.line + 1, start.column + 1, start.line + 1, start.column + 1 + max(1, len(key_text)))
        head, sep, rest = key_text.partition(" ")
        if sep and rest.strip():
            suggestion = f"{head}: {rest.strip()}"
            msg = f"`{key_text}` is not a `key: value` pair: the `:` after `{head}` is missing"
        else:
            suggestion = f"{key_text}:"
            msg = f"the key `{key_text}` has no `:` after it"
        return SyntaxExplanation(span, f"YAML syntax error: {msg}", (),
                                 "a mapping key ends with `:` followed by a space or the end of the line",
                                 suggestion)

    # `key value` then the next line: the plain scalar runs on into the next line's `key:`, or
    # a bare `key` leaves the next key indented inside a scalar
    if "mapping values are not allowed" in problem or ("expected key" in problem and "block mapping" in context):
        missing = _missing_colon_above(text, mark, same_indent="expected key" in problem)
        if missing is not None:
            return SyntaxExplanation(Span(file, *missing[0]),
                                     f"YAML syntax error: {missing[1]}",
                                     (f"without it YAML reads on to line {mark.line + 1} and fails there",),
                                     "a mapping key ends with `:` followed by a space or the end of the line",
                                     missing[2])
        if "mapping values are not allowed" in problem:
            return SyntaxExplanation(Span(file, mark.line + 1, mark.column + 1),
                                     f"YAML syntax error: {problem}", (),
                                     "a plain value cannot contain `: `; quote the whole value, or use `>-` and put "
                                     "the expression on the next line, indented")

    # an unclosed quote: the parser notices at the end of the file; point at the quote
    if "quoted scalar" in context and start is not None:
        quote = text[start.index:start.index + 1] or '"'
        notes: tuple[str, ...] = ()
        if at_eof:
            notes = ("the parser reached the end of the file still inside the quoted text",)
        elif mark.line != start.line:
            notes = (f"the parser reached line {mark.line + 1} still inside the quoted text",)
        msg = "this quoted text is never closed" if "end of stream" in problem else f"{problem} (in quoted text)"
        other = "'" if quote == '"' else '"'
        return SyntaxExplanation(Span(file, start.line + 1, start.column + 1), f"YAML syntax error: {msg}", notes,
                                 f"close it with {quote} on the same line; to put {quote} inside a value, quote the "
                                 f"whole value with {other} instead")

    # an unclosed `[` or `{`: the parser reads on until something cannot be in the list
    kind = next((k for k in _CLOSER if k in context), None)
    if kind is not None and start is not None and "did not find expected ','" in problem:
        opener, closer, noun = _CLOSER[kind]
        if mark.line != start.line or at_eof:
            where = "the end of the file" if at_eof else f"line {mark.line + 1}"
            return SyntaxExplanation(
                Span(file, start.line + 1, start.column + 1), f"YAML syntax error: this `{opener}` is never closed",
                (f"the parser reached {where} still inside the {noun}",),
                f"close the {noun} with `{closer}` on the same line, or write it as an indented block "
                f"({'`- item` lines' if noun == 'list' else '`key: value` lines'})")
        return SyntaxExplanation(
            Span(file, mark.line + 1, mark.column + 1),
            f"YAML syntax error: expected `,` or `{closer}` here, inside the {noun} opened at column {start.column + 1}",
            (), f"separate the items of a flow {noun} with `, `; inside `{opener}…{closer}` a comma ends a value, so "
                "write a function call with several arguments in block style")

    # a closing bracket with no opening one
    found = text[mark.index:mark.index + 1]
    if found in ("]", "}") and ("expected key" in problem or "expected <block end>" in problem
                               or "expected the node content" in problem):
        opener = "[" if found == "]" else "{"
        return SyntaxExplanation(Span(file, mark.line + 1, mark.column + 1),
                                 f"YAML syntax error: `{found}` closes nothing", (),
                                 f"remove it, or open the {'list' if found == ']' else 'mapping'} with `{opener}`")

    # text after the closing quote of a quoted value: `userId: "x" y`
    before = text[:mark.index].rstrip(" ")
    if before.endswith(("'", '"')) and "\n" not in text[len(before):mark.index] and ("expected key" in problem
                                                                                       or "expected <block end>" in problem):
        q = before[-1]
        other = "'" if q == '"' else '"'
        line = _strip_comment(_line_text(text, mark.line))
        colon = line.find(": ")
        value = (line[colon + 2:] if colon >= 0 else line).strip()
        hint = f"a quoted YAML value ends at its closing {q}"
        if other not in value:
            hint += f"; to write an expression that contains quotes, quote all of it: `{other}{value}{other}`"
        return SyntaxExplanation(Span(file, mark.line + 1, mark.column + 1),
                                 "YAML syntax error: text after the closing quote of a quoted value", (), hint)

    # anything else: the parser's own words, never placed past the last line
    msg = problem + (f" ({context})" if context else "")
    notes = ()
    if start is not None and context and start.line != mark.line:
        notes = (f"{context} that starts at line {start.line + 1}",)
    if at_eof:
        line0, col0 = _last_content_position(text)
        return SyntaxExplanation(Span(file, line0 + 1, col0 + 1), f"YAML syntax error: {msg} at the end of the file",
                                 notes)
    return SyntaxExplanation(Span(file, mark.line + 1, mark.column + 1), f"YAML syntax error: {msg}", notes)
