"""Tracking-plan export: what a mapping can send, as Segment Protocols rules.

Every planned call's fields are typed by the checker (``compiler/plan.py``); calls
that send the same Segment event (one ``track`` name, or all ``identify`` /
all ``group`` calls) are merged into one rule, because Protocols keeps one
rule per event. Types become JSON Schema draft-07:

- ``string``/``integer``/``number``/``boolean``, date-times as
  ``{"type": "string", "format": "date-time"}``; known constants and enums
  as ``enum``;
- a value that can be JSON null gets ``"null"`` in its type;
- a key is ``required`` only when no event can leave it out (absent values
  are dropped from the call); ``identify``/``group`` traits are never
  required, because traits accumulate across calls.

``alias`` calls have no Protocols rule type, and a track call whose event
name is computed from the webhook cannot be keyed; both are reported as
notes instead of being guessed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from segmap.compiler import types as T
from segmap.compiler.plan import PlannedCall
from segmap.compiler.types import Ty
from segmap.diagnostics.model import SourceMap
from segmap.dsl import ast
from segmap.runtime.values import type_name

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
RULE_TYPES = {"track": "TRACK", "identify": "IDENTIFY", "group": "GROUP", "page": "PAGE", "screen": "SCREEN"}
PAYLOAD_FIELD = {"track": "properties", "page": "properties", "screen": "properties",
                 "identify": "traits", "group": "traits"}
MAX_DEPTH = 8


@dataclass
class Source:
    """One planned call that feeds a rule."""

    event_type: str
    call: PlannedCall


@dataclass
class Rule:
    kind: str  # track identify group page screen
    key: str | None  # the event name for track (page/screen: the name, if any)
    payload: Ty  # the merged type of properties / traits
    sources: list[Source] = field(default_factory=list)

    @property
    def payload_field(self) -> str:
        return PAYLOAD_FIELD[self.kind]

    @property
    def title(self) -> str:
        if self.kind == "track":
            return self.key or "?"
        return f"{self.kind}" + (f" {self.key}" if self.key else "")


@dataclass
class TrackingPlan:
    file: str
    rules: list[Rule]
    notes: list[str]  # what could not be exported, and why
    sources: SourceMap | None = None  # for expression text in the Markdown page


# --- building -----------------------------------------------------------------------


def build(result) -> TrackingPlan:
    """Tracking plan of a checked mapping (``CheckResult`` without errors)."""
    rules: dict[tuple[str, str | None], Rule] = {}
    notes: list[str] = []
    noted: set = set()
    for event, planned in result.plan.calls.items():
        for tc in planned:
            if not tc.reachable:
                continue  # e.g. `when: type == "subscription.renewed"` on another subscription event
            if tc.kind not in RULE_TYPES:
                key = ("alias", tc.spec.span)
                if key not in noted:
                    noted.add(key)
                    notes.append(f"{_where(tc)}: alias calls have no tracking-plan rule type; left out")
                continue
            names = tc.names()
            if names is None:
                key = ("name", tc.spec.span)
                if key not in noted:
                    noted.add(key)
                    notes.append(f"{_where(tc)}: the {tc.kind} event name is computed from the webhook, "
                                 "so it cannot be a tracking-plan key; left out")
                continue
            payload_field = tc.field(PAYLOAD_FIELD[tc.kind])
            payload = payload_field.ty if payload_field else _EMPTY_ABSENT
            for name in (names or (None,)):
                rkey = (tc.kind, name if tc.kind in ("track", "page", "screen") else None)
                rule = rules.get(rkey)
                if rule is None:
                    rule = rules[rkey] = Rule(tc.kind, rkey[1], payload)
                else:
                    rule.payload = merge(rule.payload, payload)
                rule.sources.append(Source(event, tc))
    order = list(RULE_TYPES)
    ordered = sorted(rules.values(), key=lambda r: (order.index(r.kind), r.key or ""))
    return TrackingPlan(result.mapping.file, ordered, notes, result.sources)


def merge(a: Ty | None, b: Ty | None) -> Ty:
    """The type of a value that is ``a`` for some events and ``b`` for others.

    Objects merge key by key (a key missing on one side becomes optional);
    ``None`` stands for "this field is not sent at all" (absent).
    """
    if a is None and b is None:
        return T.NEVER.with_flags(optional=True)
    if a is None:
        assert b is not None
        return b.with_flags(optional=True)
    if b is None:
        return a.with_flags(optional=True)
    if a.kind == "object" and b.kind == "object":
        fa, fb = dict(a.args), dict(b.args)
        keys = list(fa) + [k for k in fb if k not in fa]
        fields = tuple((k, merge(fa.get(k), fb.get(k))) for k in keys)
        return Ty("object", fields, None, a.nullable or b.nullable, a.optional or b.optional)
    if a == b:
        return a
    return T.union(a, b)


_EMPTY_ABSENT = Ty("object", (), None, False, True)


def _where(tc: PlannedCall) -> str:
    s = tc.spec.span
    return f"{s.file}:{s.line}"


# --- JSON Schema -----------------------------------------------------------------------


def type_schema(ty: Ty, enums: bool = True, depth: int = 0) -> dict:
    """JSON Schema (draft-07) of the values of ``ty``; absence is the parent's business."""
    schema = _base_schema(ty.required(), enums, depth)
    if ty.nullable:
        schema = _with_null(schema)
    return schema


def _with_null(schema: dict) -> dict:
    if not schema:  # {} already allows null
        return schema
    if "anyOf" in schema:
        if {"type": "null"} not in schema["anyOf"]:
            return {**schema, "anyOf": schema["anyOf"] + [{"type": "null"}]}
        return schema
    out = dict(schema)
    t = out.get("type")
    if isinstance(t, str):
        out["type"] = [t, "null"] if t != "null" else "null"
    elif isinstance(t, list):
        out["type"] = t if "null" in t else t + ["null"]
    else:
        return {"anyOf": [schema, {"type": "null"}]}
    if "enum" in out and None not in out["enum"]:
        out["enum"] = out["enum"] + [None]
    return out


def _scalar_type(value) -> str:
    """The JSON Schema type of an enum constant (JSON Schema tells integers from other numbers)."""
    kind = type_name(value)
    if kind == "number":
        return "integer" if isinstance(value, int) else "number"
    return "boolean" if kind == "bool" else "string"


def _base_schema(t: Ty, enums: bool, depth: int) -> dict:
    k = t.kind
    if depth > MAX_DEPTH:
        return {}
    if k == "str":
        if t.args and enums:
            return {"type": "string", "enum": list(t.args)}
        return {"type": "string"}
    if k == "int":
        return {"type": "integer"}
    if k == "float":
        return {"type": "number"}
    if k == "bool":
        return {"type": "boolean"}
    if k == "datetime":
        return {"type": "string", "format": "date-time"}
    if k == "date":
        return {"type": "string", "format": "date"}
    if k == "enum":
        types = sorted({_scalar_type(v) for v in t.args})
        if "integer" in types and "number" in types:
            types.remove("integer")
        schema: dict = {"type": types[0] if len(types) == 1 else types}
        if enums:
            schema["enum"] = list(t.args)
        return schema
    if k == "null":
        return {"type": "null"}
    if k == "list":
        item = t.args[0] if t.args else T.ANY
        # an absent list item is sent as null (JSON lists have no holes)
        item = item.with_flags(nullable=item.nullable or item.optional, optional=False)
        return {"type": "array", "items": type_schema(item, enums, depth + 1)}
    if k == "dict":
        return {"type": "object", "additionalProperties": type_schema(t.args[0], enums, depth + 1)}
    if k in ("object", "model"):
        fields = dict(t.args) if k == "object" else T.model_fields(t.name)
        return object_schema(fields, enums, depth + 1)
    if k == "union":
        return _union_schema(t, enums, depth)
    return {}  # any, never


def object_schema(fields: dict[str, Ty], enums: bool = True, depth: int = 0, required: bool = True) -> dict:
    schema: dict = {"type": "object",
                    "properties": {name: type_schema(ty, enums, depth) for name, ty in fields.items()}}
    req = [name for name, ty in fields.items() if not ty.optional]
    if required and req:
        schema["required"] = req
    return schema


def _union_schema(t: Ty, enums: bool, depth: int) -> dict:
    options = [_base_schema(o, enums, depth) for o in t.args]
    if any(o == {} for o in options):
        return {}
    # `fallback(data.payment_method, "unknown")`: the constant is already a string
    plain = {o["type"] for o in options if set(o) == {"type"} and isinstance(o["type"], str)}
    options = [o for o in options if not ("enum" in o and set(o) == {"type", "enum"} and o["type"] in plain)]
    # all constant texts / enums of one JSON type: one enum
    if enums and all("enum" in o and set(o) <= {"type", "enum"} for o in options):
        json_types = {json.dumps(o["type"]) for o in options}
        if len(json_types) == 1:
            values: list = []
            for o in options:
                values.extend(v for v in o["enum"] if v not in values)
            return {"type": options[0]["type"], "enum": values}
    # plain JSON types only: a type list
    if all(set(o) == {"type"} for o in options):
        types: list[str] = []
        for o in options:
            ts = o["type"] if isinstance(o["type"], list) else [o["type"]]
            types.extend(x for x in ts if x not in types)
        if "number" in types and "integer" in types:
            types.remove("integer")
        return {"type": types[0] if len(types) == 1 else types}
    unique: list[dict] = []
    for o in options:
        if o not in unique:
            unique.append(o)
    return unique[0] if len(unique) == 1 else {"anyOf": unique}


def payload_schema(rule: Rule, enums: bool = True) -> dict:
    """The ``properties`` / ``traits`` object schema of a rule."""
    ty = rule.payload.required()
    if ty.kind == "object":
        schema = object_schema(dict(ty.args), enums, 1, required=rule.kind not in ("identify", "group"))
    elif ty.kind in ("any", "never"):
        schema = {"type": "object"}
    else:
        schema = type_schema(ty, enums, 1)
        if rule.kind in ("identify", "group"):
            schema.pop("required", None)
    return schema


def rule_schema(rule: Rule, enums: bool = True) -> dict:
    return {
        "$schema": DRAFT_07,
        "type": "object",
        "properties": {rule.payload_field: payload_schema(rule, enums)},
    }


def segment_rules(plan: TrackingPlan, enums: bool = True) -> list[dict]:
    """Segment Protocols ``RuleV1`` objects."""
    out = []
    for rule in plan.rules:
        item: dict = {"type": RULE_TYPES[rule.kind]}
        if rule.key is not None:
            item["key"] = rule.key
        item["version"] = 1
        item["jsonSchema"] = rule_schema(rule, enums)
        out.append(item)
    return out


def json_schemas(plan: TrackingPlan, enums: bool = True) -> dict:
    """``{"track": {event: schema}, "identify": schema, "group": schema, "page": {...}, "screen": {...}}``."""
    out: dict = {}
    for rule in plan.rules:
        schema = rule_schema(rule, enums)
        if rule.kind in ("identify", "group") or (rule.kind in ("page", "screen") and rule.key is None):
            if rule.kind in ("page", "screen"):
                out.setdefault(rule.kind, {})[""] = schema
            else:
                out[rule.kind] = schema
        else:
            out.setdefault(rule.kind, {})[rule.key] = schema
    return out


def schema_for_call(plan: TrackingPlan, call: str, body: dict, enums: bool = True) -> dict | None:
    """The rule schema a produced call (``Call.call``, ``Call.body``) must satisfy, if any."""
    for rule in plan.rules:
        if rule.kind != call:
            continue
        if rule.kind == "track" and body.get("event") != rule.key:
            continue
        if rule.kind in ("page", "screen") and body.get("name") != rule.key:
            continue
        return rule_schema(rule, enums)
    return None


# --- Markdown --------------------------------------------------------------------------


def markdown(plan: TrackingPlan) -> str:
    lines = [f"# Tracking plan: `{plan.file}`", "",
             "Generated by `segmap plan` from the types the mapping's expressions can take. "
             "*Required* means every Dodo event that sends the call includes the key; "
             "*null* means the value can be JSON null.", ""]
    lines += ["| Segment call | Dodo events |", "|---|---|"]
    for rule in plan.rules:
        lines.append(f"| {_call_label(rule)} | {', '.join(f'`{e}`' for e in _events(rule))} |")
    lines.append("")
    for rule in plan.rules:
        lines.append(f"## {_call_label(rule)}")
        lines.append("")
        for src in _distinct_sources(rule):
            spec = src.call.spec
            when = ""
            if spec.when is not None:
                when = f", only when `{_text(plan, spec.when) or '...'}`"
            evs = ", ".join(f"`{e}`" for e in _events(rule, spec))
            lines.append(f"- from {evs} ({spec.span.file}:{spec.span.line}{when})")
        lines.append("")
        rows = list(_rows(plan, rule))
        if not rows:
            lines.append(f"No {rule.payload_field}.")
            lines.append("")
            continue
        lines.append(f"| {'Property' if rule.payload_field == 'properties' else 'Trait'} "
                     "| Type | Null | Required | Mapped from |")
        lines.append("|---|---|---|---|---|")
        for name, ty, required, origin in rows:
            lines.append(f"| `{name}` | {type_label(ty)} | {'yes' if ty.nullable else 'no'} | "
                         f"{'yes' if required else 'no'} | {origin} |")
        lines.append("")
    if plan.notes:
        lines.append("## Not in the plan")
        lines.append("")
        lines.extend(f"- {n}" for n in plan.notes)
        lines.append("")
    return "\n".join(lines)


def _call_label(rule: Rule) -> str:
    if rule.kind == "track":
        return f"Track “{rule.key}”"
    return rule.kind.capitalize() + (f" “{rule.key}”" if rule.key else "")


def _events(rule: Rule, spec=None) -> list[str]:
    out = []
    for s in rule.sources:
        if spec is not None and s.call.spec is not spec:
            continue
        if s.event_type not in out:
            out.append(s.event_type)
    return out


def _distinct_sources(rule: Rule) -> list[Source]:
    seen, out = set(), []
    for s in rule.sources:
        key = id(s.call.spec)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _rows(plan: TrackingPlan, rule: Rule):
    ty = rule.payload.required()
    if ty.kind != "object":
        return
    origins = _origins(plan, rule)
    traits = rule.kind in ("identify", "group")

    def walk(prefix: str, fields: dict, required_parent: bool, depth: int):
        for name, fty in fields.items():
            path = f"{prefix}{name}"
            required = required_parent and not fty.optional and not traits
            yield path, fty, required, origins.get(path, "")
            base = fty.required()
            if depth < 3:
                if base.kind == "object":
                    yield from walk(path + ".", dict(base.args), required, depth + 1)
                elif base.kind == "list" and base.args and base.args[0].required().kind == "object":
                    yield from walk(path + "[].", dict(base.args[0].required().args), required, depth + 1)

    yield from walk("", dict(ty.args), True, 0)


def _origins(plan: TrackingPlan, rule: Rule) -> dict[str, str]:
    """flattened key -> the expressions it is mapped from (distinct, in order)."""
    found: dict[str, list[str]] = {}
    for src in _distinct_sources(rule):
        f = src.call.field(rule.payload_field)
        if f is None:
            continue

        def visit(expr, prefix: str):
            if isinstance(expr, ast.ObjectLit):
                for entry in expr.entries:
                    path = prefix + entry.key
                    text = _text(plan, entry.value)
                    if text:
                        cell = f"`{text}`" if len(text) <= 70 else f"`{text[:67]}...`"
                        found.setdefault(path, [])
                        if cell not in found[path]:
                            found[path].append(cell)
                    visit(entry.value, path + ".")
            elif isinstance(expr, ast.Call) and expr.func == "map" and len(expr.args) == 2 \
                    and isinstance(expr.args[1], ast.Lambda):
                visit(expr.args[1].body, prefix[:-1] + "[].")

        visit(f.spec.value, "")
    return {k: "<br>".join(v) for k, v in found.items()}


def _text(plan: TrackingPlan, expr) -> str | None:
    """The source text of an expression (one line) for the Markdown page."""
    sources = plan.sources
    span = expr.span
    if sources is None or span is None:
        return None
    if isinstance(expr, ast.Literal):
        return json.dumps(expr.value, ensure_ascii=False)
    if isinstance(expr, (ast.ObjectLit, ast.ListLit)) and span.end_line != span.line:
        return None
    line = sources.line(span.file, span.line)
    if line is None:
        return None
    if span.end_line == span.line:
        text = line[span.col - 1: span.end_col - 1]
    else:
        text = line[span.col - 1:] + " ..."
    return text.strip().replace("|", "\\|") or None


def type_label(ty: Ty) -> str:
    """A short type for people: ``string``, ``date-time``, ``"USD"``, ``Currency (145 values)``."""
    t = ty.required()
    k = t.kind
    if k == "str":
        if t.args:
            return " or ".join(json.dumps(a, ensure_ascii=False) for a in t.args)
        return "string"
    if k == "datetime":
        return "date-time string"
    if k == "date":
        return "date string"
    if k == "int":
        return "integer"
    if k == "float":
        return "number"
    if k == "bool":
        return "boolean"
    if k == "enum":
        if len(t.args) <= 6:
            return " \\| ".join(json.dumps(v, ensure_ascii=False) for v in t.args)
        return f"{t.name or 'enum'} ({len(t.args)} values)"
    if k == "list":
        return f"array of {type_label(t.args[0])}" if t.args else "array"
    if k in ("object", "dict", "model"):
        return "object"
    if k == "union":
        enum_values = {v for o in t.args if o.kind == "enum" for v in o.args}
        plain = {o.kind for o in t.args if o.kind == "str" and not o.args}
        labels = []
        for o in t.args:
            if o.kind == "str" and o.args and (plain or set(o.args) <= enum_values):
                continue  # a constant the other options already allow
            label = type_label(o)
            if label not in labels:
                labels.append(label)
        return " or ".join(labels)
    if k in ("any", "never"):
        return "any"
    return k
