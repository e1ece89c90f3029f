"""The language features, as functions of a document's text and a position.

Each returns lsprotocol types and knows nothing of the transport
(segmap/lsp/server.py wires them to pygls), so a feature is one function
from text to answer. Positions: LSP counts UTF-16 code units, segmap's
spans count code points (1-based); the conversions live here.
"""
from __future__ import annotations

import re

from lsprotocol import types as lsp

from segmap.compiler import types as T
from segmap.compiler.types import Ty
from segmap.diagnostics.model import Diagnostic, Severity
from segmap.dsl.segment_fields import ALL_FIELDS, CALL_FIELDS
from segmap.lsp.context import Context, context_at
from segmap.lsp.envelope import FieldInfo, events_for, fields_below, resolve, split_path

SOURCE = "segmap"
_SEVERITY = {Severity.ERROR: lsp.DiagnosticSeverity.Error, Severity.WARNING: lsp.DiagnosticSeverity.Warning,
             Severity.NOTE: lsp.DiagnosticSeverity.Information}
_PATH_BEFORE = re.compile(r"((?:[A-Za-z_]\w*)(?:\.[A-Za-z_]\w*|\[[^\]\[]*\])*)\.(\w*)$")
_NAME_BEFORE = re.compile(r"(?:^|[^\w.\]\"'])([A-Za-z_]\w*)?$")
_LAMBDA = re.compile(r"\b(map|filter)\(\s*")
_TOKEN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\s*-?\d+\s*\]|\[\s*\"[^\"]*\"\s*\])*")
_ALLOW = re.compile(r"(?:^|[ \t])#[ \t]*segmap:[ \t]*allow\b")


# --- positions -----------------------------------------------------------------

def utf16_to_col(line: str, character: int) -> int:
    """An LSP character offset (UTF-16) on ``line`` -> a 0-based code point column."""
    units = 0
    for i, ch in enumerate(line):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def col_to_utf16(line: str, col: int) -> int:
    """A 0-based code point column on ``line`` -> an LSP character offset."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in line[:col])


def _line(lines: list[str], i: int) -> str:
    return lines[i] if 0 <= i < len(lines) else ""


def span_range(lines: list[str], d: Diagnostic) -> lsp.Range:
    s = d.span
    if s is None:
        return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    start = lsp.Position(s.line - 1, col_to_utf16(_line(lines, s.line - 1), s.col - 1))
    end = lsp.Position(s.end_line - 1, col_to_utf16(_line(lines, s.end_line - 1), s.end_col - 1))
    return lsp.Range(start, end)


# --- diagnostics ---------------------------------------------------------------

def to_lsp_diagnostics(text: str, diags: list[Diagnostic]) -> list[lsp.Diagnostic]:
    """`segmap check`'s diagnostics as LSP diagnostics: same code, span and text (notes,
    suggestion and hint as lines of the message); ``data`` keeps the suggestion for code actions."""
    lines = text.split("\n")
    out = []
    for d in diags:
        message = d.message
        for note in d.notes:
            message += f"\nnote: {note}"
        if d.suggestion is not None:
            message += f"\nhelp: did you mean `{d.suggestion}`?"
        if d.hint:
            message += f"\nhint: {d.hint}"
        out.append(lsp.Diagnostic(
            range=span_range(lines, d), message=message, severity=_SEVERITY.get(d.severity),
            code=d.code, source=SOURCE,
            data={"suggestion": d.suggestion} if d.suggestion is not None else None))
    return out


# --- completion ------------------------------------------------------------------

def _markdown(text: str) -> lsp.MarkupContent:
    return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)


def _field_doc(info: FieldInfo, events: tuple[str, ...]) -> str:
    parts = [f"`{info.name}`: {info.describe()}"]
    doc = info.doc()
    if doc:
        parts.append(" ".join(doc.split()))
    values = info.enum_values()
    if values:
        parts.append("Values: " + ", ".join(f'`"{v}"`' if isinstance(v, str) else f"`{v}`" for v in values))
    have = [e for e in events if e in info.types]
    if len(events) > 1:
        if len(have) == len(events):
            parts.append(f"Every event of the rule has it ({len(events)}).")
        else:
            parts.append(f"Only {len(have)} of the rule's {len(events)} events have it: " + ", ".join(have)
                         + ". On the others the path is an error (E203).")
    return "\n\n".join(parts)


def lambda_variables(expression: str) -> dict[str, str]:
    """The map()/filter() variables in scope at the end of ``expression``: name -> the list's text."""
    out: dict[str, str] = {}
    for m in _LAMBDA.finditer(expression):
        depth, i = 1, m.end()
        comma = None
        while i < len(expression) and depth:
            c = expression[i]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "," and depth == 1 and comma is None:
                comma = i
            i += 1
        if depth == 0 or comma is None:  # closed before the cursor, or no list yet
            continue
        lm = re.match(r"\s*([A-Za-z_]\w*)\s*=>", expression[comma + 1:])
        if lm:
            seq = expression[m.end():comma].strip()
            seq = re.sub(r"\s*\?\?\s*\[\s*\]\s*$", "", seq)
            out[lm.group(1)] = seq
    return out


def _variables_of(variables: dict[str, str]):
    """event -> the types of the lambda variables (each the item type of its list)."""
    def of(event: str) -> dict[str, Ty]:
        bound: dict[str, Ty] = {}
        for name, seq in variables.items():
            parts = split_path(seq)
            ty = resolve(event, parts, bound) if parts else None
            if ty is not None and ty.required().kind == "list":
                bound[name] = ty.required().args[0]
            else:
                bound[name] = T.ANY
        return bound
    return of


def _function_items() -> list[lsp.CompletionItem]:
    from segmap.compiler.functions import FUNCTIONS, LAMBDA_FUNCTIONS, example_text

    items = []
    for spec in FUNCTIONS.values():
        doc = f"```\n{spec.signature}\n```\n\n{spec.doc}\n\nNull / missing: {spec.null_doc or 'as the first argument'}" \
              f"\n\nExample: `{example_text(spec, spec.examples[0])}`"
        items.append(lsp.CompletionItem(label=spec.name, kind=lsp.CompletionItemKind.Function,
                                        detail=spec.signature, documentation=_markdown(doc),
                                        insert_text=spec.name + "(", sort_text="2" + spec.name))
    for lspec in LAMBDA_FUNCTIONS.values():
        items.append(lsp.CompletionItem(label=lspec.name, kind=lsp.CompletionItemKind.Function,
                                        detail=lspec.signature,
                                        documentation=_markdown(f"```\n{lspec.signature}\n```\n\n{lspec.doc}"),
                                        insert_text=lspec.name + "(", sort_text="2" + lspec.name))
    return items


def _expression_items(ctx: Context) -> list[lsp.CompletionItem]:
    events = events_for(ctx.rule)
    expr = ctx.expression
    variables = lambda_variables(expr)
    if expr.count('"') % 2 == 1:  # inside a string literal: the values a compared enum can take
        return _value_items(expr, events, variables)
    m = _PATH_BEFORE.search(expr)
    if m is not None:
        parts = split_path(m.group(1))
        if parts is None:
            return []
        infos = fields_below(events, parts, _variables_of(variables))
        items = []
        for name, info in sorted(infos.items()):
            everywhere = len(info.types) == len(events)
            detail = info.describe() + ("" if everywhere else f" — only {len(info.types)} of {len(events)} events")
            items.append(lsp.CompletionItem(
                label=name, kind=lsp.CompletionItemKind.Field, detail=detail,
                documentation=_markdown(_field_doc(info, events)),
                sort_text=("0" if everywhere else "1") + name))
        return items
    if _NAME_BEFORE.search(expr) is None:
        return []
    items = []
    env = T.envelope_type(events[0])
    for name, ty in env.args:
        shown = ty.describe() if name != "type" else " | ".join(f'"{e}"' for e in events[:4]) + (
            " | ..." if len(events) > 4 else "")
        items.append(lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Variable,
                                        detail=shown, sort_text="0" + name,
                                        documentation=_markdown(f"The webhook envelope's `{name}`.")))
    for name in variables:
        items.append(lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Variable,
                                        detail=f"each item of {variables[name]}", sort_text="0" + name))
    items.extend(_function_items())
    for word in ("true", "false", "null", "if", "then", "else", "and", "or", "not"):
        items.append(lsp.CompletionItem(label=word, kind=lsp.CompletionItemKind.Keyword, sort_text="3" + word))
    return items


_COMPARED = re.compile(r"((?:[A-Za-z_]\w*)(?:\.[A-Za-z_]\w*|\[[^\]\[]*\])*)\s*(?:==|!=)\s*\"([^\"]*)$")


def _value_items(expr: str, events: tuple[str, ...], variables: dict[str, str]) -> list[lsp.CompletionItem]:
    """In `data.status == "`, the values of the enum (for `type`, the rule's event types)."""
    m = _COMPARED.search(expr)
    parts = split_path(m.group(1)) if m else None
    if parts is None:
        return []
    var_types = _variables_of(variables)
    values: dict[str, list[str]] = {}
    for ev in events:
        ty = resolve(ev, parts, var_types(ev))
        base = ty.required() if ty is not None else None
        if base is not None and base.kind == "enum":
            for v in base.args:
                if isinstance(v, str):
                    values.setdefault(v, []).append(ev)
    items = []
    for v, have in values.items():
        detail = "" if len(have) == len(events) else f"only {len(have)} of {len(events)} events"
        items.append(lsp.CompletionItem(label=v, kind=lsp.CompletionItemKind.EnumMember, detail=detail or None,
                                        sort_text=("0" if not detail else "1") + v))
    return items


def _key_items(ctx: Context) -> list[lsp.CompletionItem]:
    from segmap.compiler import json_schema, segment_rules

    have = set(ctx.siblings)

    def key(label: str, detail: str, doc: str | None = None, kind=lsp.CompletionItemKind.Property, sort="0"):
        return lsp.CompletionItem(label=label, kind=kind, detail=detail, sort_text=sort + label,
                                  documentation=_markdown(doc) if doc else None, insert_text=label + ": ")

    if not ctx.ancestors:
        tops = {"version": "always 1", "defaults": "Segment fields for every call",
                "events": "event type or glob -> calls", "tests": "mapping tests for `segmap test`"}
        return [key(k, v) for k, v in tops.items() if k not in have]
    if ctx.ancestors == ["events"]:
        events = T.event_types()
        items = [key(e, "Dodo event type", kind=lsp.CompletionItemKind.Event) for e in events if e not in have]
        for fam in sorted({e.split(".")[0] for e in events}):
            glob = f"{fam}.*"
            n = sum(1 for e in events if e.startswith(fam + "."))
            items.append(lsp.CompletionItem(label=glob, kind=lsp.CompletionItemKind.Event,
                                            detail=f"glob: {n} event types", sort_text="1" + glob,
                                            insert_text=f'"{glob}": '))
        return items
    if ctx.ancestors == ["defaults"]:
        return [key(f, "Segment field", json_schema._FIELD_DOCS.get(f)) for f in ALL_FIELDS if f not in have]
    if ctx.rule is None:
        return []
    call = ctx.call
    path = ctx.field_path
    if call is None or (ctx.item_start and not (have & set(CALL_FIELDS))):
        return [key(c, "Segment call", json_schema._CALL_DOCS.get(c), kind=lsp.CompletionItemKind.Method)
                for c in CALL_FIELDS]
    if not path:
        fields = [f for f in CALL_FIELDS[call] if f not in have]
        items = [key(f, f"{call} field", json_schema._FIELD_DOCS.get(f)) for f in fields]
        if "when" not in have:
            items.append(key("when", "guard: the call is made only when true", sort="1"))
        return items
    if path == ["properties"] and call in ("track", "page", "screen"):
        return [key(p, f"Segment spec property ({kind})", sort="0") for p, kind in segment_rules.PROPERTY_KINDS.items()
                if p not in have]
    if path == ["traits"]:
        table = segment_rules.GROUP_TRAITS if call == "group" else segment_rules.IDENTIFY_TRAITS
        return [key(t, f"reserved {call} trait ({kind})") for t, kind in table.items() if t not in have]
    if path == ["context"]:
        from segmap.dsl.segment_context import CONTEXT_FIELDS

        return [key(c, f"Segment context field ({kind})", doc) for c, (kind, doc) in CONTEXT_FIELDS.items()
                if c not in have]
    return []


def completion(text: str, line: int, character: int) -> lsp.CompletionList:
    lines = text.split("\n")
    col = utf16_to_col(_line(lines, line), character)
    ctx = context_at(text, line, col)
    if ctx.on_key:
        items = _key_items(ctx)
    elif ctx.key == "version" and not ctx.ancestors:
        items = [lsp.CompletionItem(label="1", kind=lsp.CompletionItemKind.Value)]
    elif ctx.key in CALL_FIELDS and ctx.rule is not None and ctx.key in ("track", "page", "screen"):
        items = []  # the event / page name: free text
    else:
        items = _expression_items(ctx)
    return lsp.CompletionList(is_incomplete=False, items=items)


# --- hover -------------------------------------------------------------------------

def _token_at(line: str, col: int) -> tuple[str, int, int] | None:
    """The path token around ``col`` cut after the segment under the cursor, with its columns."""
    for m in _TOKEN.finditer(line):
        if m.start() <= col <= m.end():
            token = m.group()
            rel = col - m.start()
            cut = len(token)
            for sm in re.finditer(r"\.|\[", token):
                if sm.start() >= rel and sm.start() > 0:
                    cut = sm.start()
                    break
            return token[:cut], m.start(), m.start() + cut
    return None


def hover(text: str, line: int, character: int) -> lsp.Hover | None:
    from segmap.compiler.functions import FUNCTIONS, LAMBDA_FUNCTIONS, example_text

    lines = text.split("\n")
    src = _line(lines, line)
    col = utf16_to_col(src, character)
    found = _token_at(src, col)
    if found is None:
        return None
    token, start, end = found
    ctx = context_at(text, line, end)
    if ctx.on_key:
        return None
    rng = lsp.Range(lsp.Position(line, col_to_utf16(src, start)), lsp.Position(line, col_to_utf16(src, end)))
    after = src[end:].lstrip()
    if after.startswith("(") and "." not in token:
        spec = FUNCTIONS.get(token)
        if spec is not None:
            doc = f"```\n{spec.signature}\n```\n\n{spec.doc}\n\nExample: `{example_text(spec, spec.examples[0])}`"
            return lsp.Hover(contents=_markdown(doc), range=rng)
        lspec = LAMBDA_FUNCTIONS.get(token)
        if lspec is not None:
            return lsp.Hover(contents=_markdown(f"```\n{lspec.signature}\n```\n\n{lspec.doc}"), range=rng)
        return None
    parts = split_path(token)
    if parts is None:
        return None
    events = events_for(ctx.rule)
    variables = lambda_variables(ctx.expression)
    var_types = _variables_of(variables)
    roots = {name for name, _ in T.envelope_type(events[0]).args} | set(variables)
    if parts[0] not in roots:
        return None
    types = {}
    for ev in events:
        ty = resolve(ev, parts, var_types(ev))
        if ty is not None:
            types[ev] = ty
    if not types:
        return lsp.Hover(contents=_markdown(f"`{token}`: no such path on {_events_text(events)}"), range=rng)
    info = FieldInfo(str(parts[-1]), types)
    if len(parts) >= 2 and isinstance(parts[-1], str):
        parent_model = _model_of(events, parts[:-1], var_types)
        info.model = parent_model
    body = _field_doc(info, events).replace(f"`{info.name}`:", f"`{token}`:", 1)
    return lsp.Hover(contents=_markdown(body), range=rng)


def _events_text(events: tuple[str, ...]) -> str:
    return events[0] if len(events) == 1 else f"any of the {len(events)} events"


def _model_of(events, parts, var_types) -> str | None:
    for ev in events:
        ty = resolve(ev, parts, var_types(ev))
        if ty is not None and ty.required().kind == "model":
            return ty.required().name
    return None


# --- code actions ------------------------------------------------------------------

def _code(d: lsp.Diagnostic) -> str:
    return str(d.code) if d.code is not None else ""


def code_actions(uri: str, text: str, diagnostics: list[lsp.Diagnostic]) -> list[lsp.CodeAction]:
    """Quick fixes: every suggestion (did-you-mean, `to_major(...)` for `/ 100`, ...) as an edit;
    for a warning, acknowledging it on its line; for a stale acknowledgement, removing it."""
    lines = text.split("\n")
    actions: list[lsp.CodeAction] = []
    for d in diagnostics:
        code = _code(d)
        data = d.data if isinstance(d.data, dict) else {}
        suggestion = data.get("suggestion")
        if suggestion is not None:
            actions.append(lsp.CodeAction(
                title=f"Replace with `{suggestion}`" if suggestion else "Remove",
                kind=lsp.CodeActionKind.QuickFix, diagnostics=[d], is_preferred=True,
                edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=d.range, new_text=suggestion)]})))
        guard = _GUARD_HINT.search(d.message)
        if guard is not None:
            action = _guard_action(uri, lines, d, guard.group(1))
            if action is not None:
                actions.append(action)
        if code == "E206" and "quote it inside the expression" in d.message:
            action = _quote_name_action(uri, lines, d)
            if action is not None:
                actions.append(action)
        if code == "W014" and d.range.start.line == d.range.end.line:
            actions.append(_remove_code_action(uri, lines, d))
        elif code.startswith("W") and code not in ("W014", "W015"):
            actions.append(_allow_action(uri, lines, d, code))
    return actions


_GUARD_HINT = re.compile(r"^hint: .*?guard the call with `when: ([^`]+)`", re.M)


def _guard_action(uri: str, lines: list[str], d: lsp.Diagnostic, condition: str) -> lsp.CodeAction | None:
    """The hint "guard the call with `when: x != null`" as an edit: a `when:` line beside the call
    key, or `and (...)` added to the call's existing `when:`."""
    from segmap.lsp.context import line_info

    row = d.range.start.line
    infos = [line_info(x) for x in lines]
    start = None
    threshold = infos[row].key_col + 1
    for r in range(row, -1, -1):  # the line that starts the call (its "- " item)
        li = infos[r]
        if li.blank:
            continue
        if li.marker_col is not None and li.marker_col < threshold:
            start = r
            break
        threshold = min(threshold, li.key_col)
    if start is None:
        return None
    col = infos[start].key_col
    when_row = None
    for r in range(start, len(lines)):
        li = infos[r]
        if r > start and not li.blank and (li.key_col < col or (li.marker_col is not None and li.key_col <= col)):
            break
        if li.key_col == col and li.key == "when":
            when_row = r
    if when_row is not None:
        src = lines[when_row]
        end = len(src.rstrip())
        value = src[infos[when_row].value_col:end]
        if value[:1] in "'\"" or "#" in value:
            return None  # a quoted or commented guard: leave the edit to the author
        edit = lsp.TextEdit(range=lsp.Range(lsp.Position(when_row, col_to_utf16(src, infos[when_row].value_col)),
                                            lsp.Position(when_row, col_to_utf16(src, end))),
                            new_text=f"({value}) and {condition}")
    else:
        if not (infos[start].key and infos[start].value.strip()) and not any(
                infos[r].key_col == col for r in range(start + 1, min(len(lines), start + 2)) if not infos[r].blank):
            return None  # fields nested below the call key: no place beside it
        edit = lsp.TextEdit(range=lsp.Range(lsp.Position(start + 1, 0), lsp.Position(start + 1, 0)),
                            new_text=" " * col + f"when: {condition}\n")
    return lsp.CodeAction(title=f"Guard the call with `when: {condition}`", kind=lsp.CodeActionKind.QuickFix,
                          diagnostics=[d], edit=lsp.WorkspaceEdit(changes={uri: [edit]}))


def _quote_name_action(uri: str, lines: list[str], d: lsp.Diagnostic) -> lsp.CodeAction | None:
    """E206's hint "quote it inside the expression" as an edit, quoted for the YAML style around it."""
    from segmap.lsp.context import line_info

    row = d.range.start.line
    src = lines[row] if row < len(lines) else ""
    if d.range.end.line != row:
        return None
    a, b = utf16_to_col(src, d.range.start.character), utf16_to_col(src, d.range.end.character)
    name = src[a:b]
    li = line_info(src)
    if li.key is None or a < li.value_col:
        return None
    value = src[li.value_col:].split(" #", 1)[0].rstrip()
    first = value[:1]
    if first == "'":
        new, rng = f'"{name}"', (a, b)
    elif first == '"':
        new, rng = f'\\"{name}\\"', (a, b)
    elif a == li.value_col and value == name:  # the whole plain value: quote the expression for YAML too
        new, rng = f"'\"{name}\"'", (a, b)
    elif a > li.value_col:
        new, rng = f'"{name}"', (a, b)
    else:
        return None  # a plain scalar cannot start with a quote
    edit = lsp.TextEdit(range=lsp.Range(lsp.Position(row, col_to_utf16(src, rng[0])),
                                        lsp.Position(row, col_to_utf16(src, rng[1]))), new_text=new)
    return lsp.CodeAction(title=f'Quote `{name}` as the text "{name}"', kind=lsp.CodeActionKind.QuickFix,
                          diagnostics=[d], edit=lsp.WorkspaceEdit(changes={uri: [edit]}))


def _allow_action(uri: str, lines: list[str], d: lsp.Diagnostic, code: str) -> lsp.CodeAction:
    row = d.range.start.line
    src = _line(lines, row)
    m = _ALLOW.search(src)
    if m is not None:  # add the code to the line's acknowledgement, before any `-- reason`
        rest_at = src.find("--", m.end())
        end = len(src.rstrip()) if rest_at < 0 else len(src[:rest_at].rstrip())
        edit = lsp.TextEdit(range=lsp.Range(lsp.Position(row, col_to_utf16(src, end)),
                                            lsp.Position(row, col_to_utf16(src, end))), new_text=f", {code}")
    else:
        end = col_to_utf16(src, len(src.rstrip()))
        edit = lsp.TextEdit(range=lsp.Range(lsp.Position(row, end), lsp.Position(row, end)),
                            new_text=f"  # segmap: allow {code}")
    return lsp.CodeAction(title=f"Acknowledge {code} on this line (# segmap: allow {code})",
                          kind=lsp.CodeActionKind.QuickFix, diagnostics=[d],
                          edit=lsp.WorkspaceEdit(changes={uri: [edit]}))


def _remove_code_action(uri: str, lines: list[str], d: lsp.Diagnostic) -> lsp.CodeAction:
    row = d.range.start.line
    src = _line(lines, row)
    start = utf16_to_col(src, d.range.start.character)
    end = utf16_to_col(src, d.range.end.character)
    m = _ALLOW.search(src)
    codes_start = src.find("allow", m.start()) + len("allow") if m else start
    before, after = src[codes_start:start], src[end:]
    others = re.findall(r"[EW]\d{3}", before + " " + after.split("--", 1)[0], flags=re.I)
    if not others and m is not None:  # the only code: remove the whole comment
        a = m.start() + (1 if src[m.start()] in " \t" else 0)
        while a > 0 and src[a - 1] in " \t":
            a -= 1
        rng = lsp.Range(lsp.Position(row, col_to_utf16(src, a)), lsp.Position(row, col_to_utf16(src, len(src))))
    else:
        a, b = start, end
        tail = re.match(r"\s*,\s*", src[b:])
        if tail:
            b += tail.end()
        else:
            lead = re.search(r",\s*$", src[:a])
            if lead:
                a = lead.start()
        rng = lsp.Range(lsp.Position(row, col_to_utf16(src, a)), lsp.Position(row, col_to_utf16(src, b)))
    return lsp.CodeAction(title="Remove the stale acknowledgement", kind=lsp.CodeActionKind.QuickFix,
                          diagnostics=[d], edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=rng, new_text="")]}))


__all__ = ["code_actions", "col_to_utf16", "completion", "hover", "lambda_variables", "to_lsp_diagnostics",
           "utf16_to_col"]
