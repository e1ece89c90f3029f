"""YAML node tree -> MappingFile AST.

Validates the *shape* of the file (keys, call kinds, Segment field names)
and parses every expression, collecting all problems instead of stopping
at the first. Meaning (events, paths, types) is the checker's job.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from segmap.diagnostics.model import Diagnostic, Severity, Span
from segmap.dsl import ast
from segmap.dsl.segment_fields import CALL_FIELDS, CALL_TYPES, NAME_FIELD, RESERVED_FIELDS
from segmap.dsl.expressions import parse_scalar
from segmap.dsl.yaml_source import YMap, YNode, YScalar, YSeq, load_yaml, yaml_reading

TOP_LEVEL_KEYS = ("version", "defaults", "events", "tests")
SUPPORTED_VERSIONS = ("1",)


def _suggest(word: str, options: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


_EXPR_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _expression_disagrees(node: YScalar, reading: tuple[str, str, object]) -> bool:
    """True when a plain scalar YAML types as bool/null/number means something else as an expression."""
    kind = reading[0]
    if kind == "bool":
        return node.value not in ("true", "false")
    if kind == "null":
        return node.value != "null"
    return not _EXPR_NUMBER.fullmatch(node.value)


def _kind(node: YNode) -> str:
    return "a mapping" if isinstance(node, YMap) else "a list" if isinstance(node, YSeq) else "text"


class _Loader:
    def __init__(self, file: str):
        self.file = file
        self.diags: list[Diagnostic] = []
        self.broken: list[str] = []  # names of fields whose value failed, for the call being loaded
        self.broken_defaults: list[str] = []  # the same for `defaults:`

    def err(self, code: str, message: str, span: Span, **kw: Any) -> None:
        self.diags.append(Diagnostic(code, Severity.ERROR, message, span, **kw))

    def warn(self, code: str, message: str, span: Span, **kw: Any) -> None:
        self.diags.append(Diagnostic(code, Severity.WARNING, message, span, **kw))

    def yaml_text(self, node: YScalar, what: str, error_for: tuple[str, ...] = ("bool", "null")) -> bool:
        """E013/W013 for a plain scalar meant as text that YAML readers type as bool/null/number.

        Returns True when an error was reported.
        """
        reading = yaml_reading(node)
        if reading is None:
            return False
        kind, desc, _ = reading
        quoted = '"' + node.value.replace('"', '\\"') + '"'
        notes = (f"segmap reads it as the text \"{node.value}\", but YAML readers (editors, linters, other tools) "
                 f"read it as {desc}",)
        if kind in error_for:
            self.err("E013", f"{what} `{node.value}` is {desc} in YAML", node.span, notes=notes,
                     hint=f"quote it if you mean the text: {quoted}")
            return True
        self.warn("W013", f"{what} `{node.value}` is {desc} in YAML", node.span, notes=notes,
                  hint=f"quote it: {quoted}")
        return False

    # --- values ---------------------------------------------------------
    def value(self, node: YNode) -> ast.Expr | None:
        """A value slot: text is an expression, a YAML mapping/list builds an object/list."""
        if isinstance(node, YScalar):
            if node.style == "*":  # a refused YAML alias (E002): stand in with a neutral value
                return ast.Literal("", node.span)
            if node.value == "" and node.style is None:
                self.err("E102", "missing value", node.span, hint='write an expression, or "" for an empty string')
                return None
            reading = yaml_reading(node)
            if reading is not None and _expression_disagrees(node, reading):
                kind, desc, val = reading
                write = ("true" if val is True else "false" if val is False else "null" if val is None else None) \
                    if kind not in ("number", "date") else (repr(val) if val is not None and kind == "number" else None)
                hint = f"write `{write}`" if write else None
                if kind == "bool":
                    hint = f"expressions write booleans as `{write}`; for the text, write '\"{node.value}\"'"
                elif kind == "null":
                    hint = "expressions write null as `null`"
                elif kind == "date":
                    hint = f"for the text, quote it: '\"{node.value}\"'"
                elif write:
                    hint = f"write {write} for the number, or '\"{node.value}\"' for the text"
                self.err("E013", f"`{node.value}` is {desc} in YAML, and not an expression segmap reads the same way",
                         node.span, hint=hint,
                         notes=("values are expressions: `true`, `false`, `null`, decimal numbers, quoted text",)
                         + ((f"as an expression, `{node.value}` would be a subtraction of numbers",)
                            if kind == "date" else ()))
                return ast.Literal(val, node.span)
            expr, problems = parse_scalar(node)
            self.diags.extend(problems)
            return expr
        if isinstance(node, YMap):
            entries = []
            seen: set[str] = set()
            for k, v in node.items:
                self.yaml_text(k, "key", error_for=())
                val = self.value(v)
                if val is not None and k.value not in seen:  # a YAML duplicate is already E004
                    entries.append(ast.ObjectEntry(k.value, val, k.span))
                seen.add(k.value)
            return ast.ObjectLit(tuple(entries), node.span)
        items = []
        for item in node.items:
            val = self.value(item)
            if val is not None:
                items.append(val)
        return ast.ListLit(tuple(items), node.span)

    def fields(self, items: Iterable[tuple[YScalar, YNode]], kind: str | None, where: str) -> list[ast.FieldSpec]:
        allowed = CALL_FIELDS[kind] if kind else tuple(sorted({f for fs in CALL_FIELDS.values() for f in fs}))
        out = []
        for key, val in items:
            name = key.value
            if name in RESERVED_FIELDS:
                self.err("E021", f"`{name}` is set by segmap and cannot be mapped", key.span,
                         hint="messageId is derived from the webhook id so that retries are deduplicated" if name == "messageId" else None)
                continue
            if name not in allowed:
                other = [k for k, fs in CALL_FIELDS.items() if name in fs]
                notes = (f"`{name}` belongs to {', '.join(other)} calls",) if other else ()
                suggestion = _suggest(name, allowed)
                self.err("E021", f"unknown Segment field `{name}` for {where}", key.span,
                         suggestion=suggestion, notes=notes)
                if suggestion is not None:  # a misspelt `userId`: no second error saying the call has none
                    self.broken.append(suggestion)
                continue
            expr = self.value(val)
            if expr is not None:
                out.append(ast.FieldSpec(name, expr, key.span))
            else:
                self.broken.append(name)
        return out

    # --- calls ----------------------------------------------------------
    def call(self, node: YNode, rule_id: str) -> ast.CallSpec | None:
        if not isinstance(node, YMap):
            self.err("E010", f"a call must be a mapping such as `track: Order Completed`, found {_kind(node)}", node.span)
            return None
        kinds = [(k, v) for k, v in node.items if k.value in CALL_TYPES]
        if len(kinds) != 1:
            if not kinds:
                first = node.items[0][0] if node.items else None
                sug = _suggest(first.value, CALL_TYPES) if first else None
                self.err("E020", "a call needs exactly one of track, identify, group, page, screen, alias",
                         first.span if first else node.span, suggestion=sug)
            else:
                self.err("E020", f"a call has one call key, found {', '.join(k.value for k, _ in kinds)}", kinds[1][0].span,
                         hint="make each call its own list item")
            return None
        key, head = kinds[0]
        kind = key.value
        body_items = [(k, v) for k, v in node.items if k is not key]
        fields: list[ast.FieldSpec] = []
        head_broken: list[str] = []
        if isinstance(head, YMap):
            if body_items and any(k.value != "when" for k, _ in body_items):
                k0 = next(k for k, _ in body_items if k.value != "when")
                self.err("E010", f"give the fields of `{kind}` either below it or beside it, not both", k0.span)
            body_items = list(head.items) + body_items
        elif isinstance(head, YScalar):
            if head.value != "" or head.style is not None:
                if kind not in NAME_FIELD:
                    self.err("E010", f"`{kind}:` takes no name; put its fields below it", head.span,
                             hint=f"for example `- {kind}:` followed by `userId: ...` on the next lines")
                elif kind == "track" and not head.value.strip():
                    # as wrong as no name at all: Segment refuses a track without an event name
                    self.err("E402", f"the event name is {'empty' if not head.value else 'only spaces'}",
                             head.span, hint="write the name after the key: `- track: Order Completed`")
                    head_broken.append(NAME_FIELD[kind])
                else:
                    self.yaml_text(head, "the event name" if kind == "track" else "the name")
                    fields.append(ast.FieldSpec(NAME_FIELD[kind], ast.Literal(head.value, head.span), key.span))
        else:
            self.err("E010", f"`{kind}:` takes a name or a mapping of fields, found a list", head.span)
        when = None
        when_key: YScalar | None = None
        rest = []
        for k, v in body_items:
            if k.value == "when":
                if when_key is not None:  # one in the mapping below the call key, one beside it
                    self.err("E022", "`when` is given twice", k.span,
                             notes=(f"first given at line {when_key.span.line}, column {when_key.span.col}",),
                             hint="combine the conditions with `and`")
                    continue
                when_key = k
                if not isinstance(v, YScalar):
                    self.err("E102", "`when:` takes an expression", v.span)
                else:
                    when = self.value(v)
            else:
                rest.append((k, v))
        self.broken = []
        for f in self.fields(rest, kind, f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} call"):
            if any(x.name == f.name for x in fields):
                self.err("E022", f"`{f.name}` is given twice", f.span,
                         notes=(f"`{kind}: <name>` already sets `{f.name}`",))
                continue
            fields.append(f)
        # a field whose value failed to load (in the call or in `defaults:`) was reported already:
        # the checker must not add "call has no userId" for it
        broken = tuple(head_broken) + tuple(self.broken) + tuple(n for n in self.broken_defaults if n in CALL_FIELDS[kind])
        return ast.CallSpec(kind, tuple(fields), when, key.span, rule_id, broken)

    # --- file -----------------------------------------------------------
    def mapping(self, root: YNode | None) -> ast.MappingFile | None:
        if root is None:
            if not self.diags:
                self.err("E010", "the mapping file is empty", Span(self.file, 1, 1),
                         hint="start with `version: 1` and an `events:` mapping; `segmap init` writes a starter")
            return None
        if not isinstance(root, YMap):
            self.err("E010", f"the mapping file must be a YAML mapping, found {_kind(root)}", root.span)
            return None
        for k, _ in root.items:
            if k.value not in TOP_LEVEL_KEYS:
                self.err("E011", f"unknown top-level key `{k.value}`", k.span, suggestion=_suggest(k.value, TOP_LEVEL_KEYS),
                         notes=("top-level keys are: " + ", ".join(TOP_LEVEL_KEYS),))
        version_node = root.get("version")
        version = 1
        if version_node is None:
            self.err("E012", "missing `version: 1`", root.span)
        elif not isinstance(version_node, YScalar) or version_node.value not in SUPPORTED_VERSIONS:
            self.err("E012", f"unsupported version `{getattr(version_node, 'value', '?')}`; this segmap reads version 1",
                     version_node.span)
        defaults: list[ast.FieldSpec] = []
        dnode = root.get("defaults")
        if dnode is not None:
            if isinstance(dnode, YMap):
                self.broken = []
                defaults = [ast.FieldSpec(f.name, f.value, f.span, from_defaults=True)
                            for f in self.fields(dnode.items, None, "defaults")]
                self.broken_defaults = self.broken
            elif not (isinstance(dnode, YScalar) and dnode.value == ""):
                self.err("E010", f"`defaults:` must be a mapping of Segment fields, found {_kind(dnode)}", dnode.span)
        rules: list[ast.EventRule] = []
        enode = root.get("events")
        if enode is None:
            self.err("E010", "missing `events:` (a mapping of Dodo event type -> Segment calls)", root.span)
        elif isinstance(enode, YMap):
            for key, val in enode.items:
                pattern = key.value
                if self.yaml_text(key, "the event type", error_for=("bool", "null")):
                    continue
                items = val.items if isinstance(val, YSeq) else (val,) if isinstance(val, YMap) else ()
                if isinstance(val, YScalar):
                    if val.value == "" and val.style is None:
                        self.err("E010", f"`{pattern}` maps to no calls", key.span,
                                 hint="list one or more calls, or remove the event")
                    else:
                        self.err("E010", f"`{pattern}` must map to a call or a list of calls, found text", val.span,
                                 hint=f"write `- track: {val.value}` on the next line")
                calls = []
                for i, item in enumerate(items):
                    c = self.call(item, f"{pattern}#{i}")
                    if c is not None:
                        calls.append(c)
                rules.append(ast.EventRule(pattern, any(ch in pattern for ch in "*?["), tuple(calls), key.span))
        elif not (isinstance(enode, YScalar) and enode.value == ""):
            self.err("E010", f"`events:` must be a mapping of event type -> calls, found {_kind(enode)}", enode.span)
        return ast.MappingFile(self.file, version, tuple(defaults), tuple(rules), root.get("tests"), root.span)


def load_mapping(text: str, file: str) -> tuple[ast.MappingFile | None, list[Diagnostic]]:
    root, diags = load_yaml(text, file)
    loader = _Loader(file)
    loader.diags.extend(diags)
    if any(d.code in ("E001", "E005") for d in diags):
        return None, loader.diags
    mapping = loader.mapping(root)
    return mapping, loader.diags
