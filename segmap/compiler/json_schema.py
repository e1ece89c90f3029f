"""A JSON Schema (draft-07) of the mapping file, for YAML language servers.

Generated -- never written by hand -- from the tables the loader and the
checker use, so that it cannot drift from them:

- the top-level keys and versions of ``segmap.dsl.loader``,
- the Segment fields each call accepts (``segmap.dsl.segment_fields``) and
  the call types (``segmap.runtime.calls``),
- the Dodo event types and their data models (the SDK snapshot),
- the function names, signatures and docs (the function registry),
- Segment's reserved traits and spec properties (``segment_rules``).

The schema checks the *shape* (keys, call kinds, field names, event types)
and documents every value for completion and hover; expressions themselves
are text, so their meaning stays with `segmap check`. `segmap schema`
prints it; docs/check.md shows how to point VS Code's YAML extension at it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmap.compiler.functions import FunctionSpec

SCHEMA_ID = "https://segmap.dev/schema/mapping-v1.json"

_FIELD_DOCS = {
    "userId": "The user's id in your system; required unless anonymousId is given. An expression, e.g. "
              "`data.customer.customer_id`.",
    "anonymousId": "An id for a user you cannot identify (disputes and payouts carry no customer); "
                   "required unless userId is given.",
    "event": "The track event's name, \"Object Action\" in Title Case (e.g. Order Completed). Usually written "
             "after the key: `track: Order Completed`.",
    "name": "The page or screen name.",
    "category": "The page or screen category.",
    "properties": "A mapping of property name -> expression (revenue, currency, order_id, products ...).",
    "traits": "A mapping of trait name -> expression (email, name, createdAt ... for identify; name, plan, "
              "employees ... for group).",
    "context": "Segment context: a mapping of name -> expression (ip, locale, groupId, ...).",
    "timestamp": "When the event happened, ISO-8601. `timestamp` (the envelope's) is the usual choice.",
    "integrations": "Which destinations receive the call: {All: true, \"Salesforce\": false}.",
    "groupId": "The group (account, company) id; required for group calls.",
    "previousId": "The previous id of the user; required for alias calls.",
}
_CALL_DOCS = {
    "track": "Record an action: `- track: Order Completed` with userId and properties.",
    "identify": "Tie a user to their traits (email, name, ...).",
    "group": "Tie a user to a group (account, company) with groupId and traits.",
    "page": "Record a page view (rarely useful for webhooks).",
    "screen": "Record a screen view (rarely useful for webhooks).",
    "alias": "Merge two user identities: previousId and userId.",
}


def _expression(registry: Mapping[str, FunctionSpec]) -> dict[str, Any]:
    funcs = sorted(registry.values(), key=lambda f: f.name)
    from segmap.compiler.functions import LAMBDA_FUNCTIONS

    signatures = [f.signature for f in funcs] + [f.signature for f in LAMBDA_FUNCTIONS.values()]
    listing = "\n".join(f"- `{s}`" for s in signatures)
    return {
        "description": "An expression: a path into the webhook envelope (data.customer.email, timestamp, "
                       "business_id, type), a quoted constant ('\"USD\"'), a number, true/false/null, "
                       "operators (+ - * / % == != < > and or not ??), if ... then ... else ..., f\"templates "
                       "{data.x}\", or a function call. A YAML mapping or list builds an object or list.",
        "markdownDescription": "An expression (checked by `segmap check`). Functions:\n\n" + listing,
        "examples": [f.name + "(" + ", ".join(p.name for p in f.params) + ")" for f in funcs],
        "anyOf": [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "null"},
            {"type": "array", "items": {"$ref": "#/definitions/expression"}},
            {"type": "object", "additionalProperties": {"$ref": "#/definitions/expression"}},
        ],
    }


def _object_field(name: str, reserved: dict[str, str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": _FIELD_DOCS.get(name, name),
        "type": "object",
        "additionalProperties": {"$ref": "#/definitions/expression"},
    }
    if reserved:
        out["properties"] = {
            key: {"$ref": "#/definitions/expression", "description": f"Segment {_SINGULAR.get(name, name)}"
                  f" `{key}`: {_KIND_WORDS.get(kind, kind)}"}
            for key, kind in sorted(reserved.items())
        }
    return out


_SINGULAR = {"properties": "property", "traits": "trait"}

_KIND_WORDS = {
    "number": "a number (JSON number, never text: use to_major(amount, currency) for Dodo amounts)",
    "currency": "an ISO 4217 code such as USD",
    "products": "a list of product objects (product_id, sku, name, price, quantity ...)",
    "text": "text",
    "datetime": "an ISO-8601 time",
    "date": "an ISO-8601 date",
    "address": "an object: city, country, postalCode, state, street",
    "company": "an object: name, id, industry, employee_count, plan",
}


def _call(kind: str, fields: tuple[str, ...], name_field: str | None) -> dict[str, Any]:
    from segmap.compiler import segment_rules as R

    props: dict[str, Any] = {}
    for f in fields:
        if f == "properties":
            props[f] = _object_field(f, R.PROPERTY_KINDS if kind == "track" else None)
        elif f == "traits":
            props[f] = _object_field(f, R.IDENTIFY_TRAITS if kind == "identify" else R.GROUP_TRAITS)
        elif f in ("context", "integrations"):
            props[f] = _object_field(f, None)
        else:
            props[f] = {"$ref": "#/definitions/expression", "description": _FIELD_DOCS.get(f, f)}
    props["when"] = {"$ref": "#/definitions/expression",
                     "description": "A condition (true/false): the call is made only when it holds. "
                                    "`when: data.x != null` also tells the checker that data.x is set."}
    fields_schema = {"type": "object", "properties": dict(props), "additionalProperties": False}
    head: list[dict[str, Any]] = [{"type": "null"}, fields_schema]
    if name_field:
        from segmap.dsl.yaml_source import YAML11_BOOL_WORDS

        # `track: yes` is the string "yes" to a YAML 1.2 editor and true to a YAML 1.1 one: refused
        # either way (YAML 1.1 readers fail the type, YAML 1.2 readers the `not`)
        head.insert(0, {"type": "string", "not": {"enum": list(YAML11_BOOL_WORDS)},
                        "description": f"The {name_field}, as written (not an expression). "
                                       "yes/no/on/off are booleans to YAML 1.1 tools: quote them."})
    call_props = {kind: {"description": _CALL_DOCS[kind], "anyOf": head}}
    call_props.update(props)
    return {
        "type": "object",
        "description": _CALL_DOCS[kind],
        "required": [kind],
        "properties": call_props,
        "additionalProperties": False,
    }


def _event_doc(event: str, snapshot: dict[str, Any]) -> str:
    model = snapshot["events"][event]["data"]
    fields = sorted(snapshot["models"][model]["fields"])
    shown = ", ".join(fields[:24]) + (", ..." if len(fields) > 24 else "")
    return f"Dodo webhook `{event}`; `data` is {model.split('.')[-1] if '.' not in model else 'its own Data model'}: {shown}"


def build_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) of a segmap mapping file."""
    from segmap.compiler.functions import FUNCTIONS
    from segmap.compiler.snapshot import load_snapshot
    from segmap.dsl.loader import SUPPORTED_VERSIONS, TOP_LEVEL_KEYS
    from segmap.dsl.segment_fields import ALL_FIELDS, CALL_FIELDS, CALL_TYPES, NAME_FIELD, OBJECT_FIELDS

    snapshot = load_snapshot()
    events = sorted(snapshot["events"])
    versions: list[Any] = []
    for v in SUPPORTED_VERSIONS:
        versions.append(v)
        if v.isdigit():
            versions.append(int(v))
    defaults_props: dict[str, Any] = {}
    for f in ALL_FIELDS:
        if f in OBJECT_FIELDS:
            defaults_props[f] = _object_field(f, None)
        else:
            defaults_props[f] = {"$ref": "#/definitions/expression", "description": _FIELD_DOCS.get(f, f)}
    top = {
        "version": {"description": "The mapping language version.", "enum": versions},
        "defaults": {
            "description": "Fields added to every call that accepts them and does not set them itself "
                           "(typically userId and timestamp).",
            "type": "object",
            "properties": defaults_props,
            "additionalProperties": False,
        },
        "events": {
            "description": "Dodo event type (or glob pattern such as subscription.*) -> the Segment calls to make.",
            "type": "object",
            "properties": {e: {"$ref": "#/definitions/calls", "description": _event_doc(e, snapshot)} for e in events},
            "propertyNames": {"anyOf": [{"enum": events}, {"pattern": r"[*?\[]"}]},
            "additionalProperties": {"$ref": "#/definitions/calls"},
        },
        "tests": {"description": "Embedded tests (see `segmap test`).", "type": ["array", "object", "null"]},
    }
    unknown = set(top) - set(TOP_LEVEL_KEYS)
    assert not unknown, unknown  # the schema documents exactly the loader's top-level keys
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "segmap mapping file",
        "description": "Dodo Payments webhooks -> Segment calls. Generated by `segmap schema` from segmap's own "
                       f"tables (Dodo SDK {snapshot.get('sdk', {}).get('package', 'dodopayments')} "
                       f"{snapshot.get('sdk', {}).get('version', '')}).",
        "type": "object",
        "required": ["version", "events"],
        "properties": {k: top[k] for k in TOP_LEVEL_KEYS},
        "additionalProperties": False,
        "definitions": {
            "expression": _expression(FUNCTIONS),
            "calls": {"anyOf": [{"$ref": "#/definitions/call"},
                                {"type": "array", "items": {"$ref": "#/definitions/call"}}]},
            "call": {"oneOf": [{"$ref": f"#/definitions/{kind}_call"} for kind in CALL_TYPES]},
            **{f"{kind}_call": _call(kind, CALL_FIELDS[kind], NAME_FIELD.get(kind)) for kind in CALL_TYPES},
        },
    }


def schema_json(indent: int | None = 2) -> str:
    import json

    return json.dumps(build_schema(), indent=indent, ensure_ascii=False, sort_keys=False)
