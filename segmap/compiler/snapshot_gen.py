"""Regenerate ``segmap/data/dodo_events.json`` from the installed Dodo SDK.

The mapping checker needs the full nested type of every webhook envelope, but
importing ``dodopayments`` (hundreds of modules and pydantic model builds) on
every ``segmap check`` would be slow and would make the SDK a runtime
dependency. So the SDK is read once, here, at development time, and the result
is shipped as package data that ``segmap.compiler.snapshot`` loads with the
stdlib. This is the only module in segmap allowed to import the SDK.

Snapshot format (``json.dumps(sort_keys=True, indent=1)``)::

    {"sdk": {"package", "version"},
     "envelope": {"business_id": FIELD, "timestamp": FIELD},
     "events": {"<type>": {"class": "<EventClass>", "data": "<model>"}},
     "models": {"<model>": {"doc": str|None, "fields": {"<name>": FIELD}}}}
    FIELD = {"type": T, "required": bool, "nullable": bool, "doc": str|None, "facts"?: FACTS}
    FACTS = {"unit"?: "minor"|"basis_points", "currency"?: field, "deprecated"?: str,
             "role"?: "period_start"|"period_end", "null_when"?: str, "only_for"?: [event type],
             "advice"?: [{"avoid": "length"|"null", "of": field}], "advice_said"?: str}
    T     = {"t": "str"|"int"|"float"|"bool"|"datetime"|"date"|"any"}
          | {"t": "enum", "values": [...sorted], "name": alias|None}
          | {"t": "list", "items": T} | {"t": "dict", "values": T}
          | {"t": "model", "name": model} | {"t": "union", "of": [T, ...]}

FACTS (only when the SDK says something, see :func:`field_facts`) is what the
docstring says a field *means*, read here once so the checker can reason about
units, deprecation and the SDK's own advice without parsing prose per run.

None never appears inside T: nullability is a property of the field, which is
all the checker needs. A None nested deeper (``List[Optional[X]]``) cannot be
expressed, so generation fails loudly instead of dropping it.

Run ``python -m segmap.compiler.snapshot_gen [--check]`` or ``segmap schema-refresh``.
"""
from __future__ import annotations

import argparse
import ast
import collections.abc
import datetime as _dt
import enum
import functools
import importlib
import inspect
import json
import re
import sys
import textwrap
import types
import typing
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from segmap.errors import SegmapError

SDK_PACKAGE = "dodopayments"
_UNION_MODULE = "dodopayments.types.unwrap_webhook_event"
_ENVELOPE_EXTRA = ("business_id", "timestamp")  # "type" and "data" are described by "events"

SNAPSHOT_PATH = Path(__file__).resolve().parent.parent / "data" / "dodo_events.json"


class SdkUnavailable(RuntimeError, SegmapError):
    """The SDK is a dev-only dependency; refreshing without it cannot work."""


class UnsupportedAnnotation(TypeError, SegmapError):
    """The SDK grew a type the snapshot format cannot express; extend the format first."""


# --------------------------------------------------------------------------- SDK access


def _import_union() -> Any:
    try:
        module = importlib.import_module(_UNION_MODULE)
    except ImportError as exc:
        raise SdkUnavailable(
            f"the Dodo Payments SDK is not importable ({exc}); install the dev extra: pip install -e '.[dev]'"
        ) from exc
    return module.UnwrapWebhookEvent


def event_classes() -> dict[str, type[Any]]:
    """Event type -> SDK event class, in the SDK's union order.

    Tests use this to validate generated envelopes with the SDK's own models.
    """
    union = _import_union()
    while get_origin(union) is typing.Annotated:
        union = get_args(union)[0]
    out: dict[str, type] = {}
    for cls in get_args(union):
        (event_type,) = get_args(cls.model_fields["type"].annotation)
        out[event_type] = cls
    return out


def sdk_version() -> str:
    return metadata.version(SDK_PACKAGE)


# --------------------------------------------------------------------------- source docs


def _first_paragraph(doc: str | None) -> str | None:
    if not doc:
        return None
    text = inspect.cleandoc(doc).strip()
    if not text:
        return None
    para = re.split(r"\n\s*\n", text, maxsplit=1)[0]
    return " ".join(para.split())


@functools.cache
def _class_source_info(cls: type) -> dict[str, tuple[ast.expr, str | None]]:
    """Field name -> (annotation AST, attribute docstring) for fields declared on cls itself.

    The SDK documents fields with attribute docstrings, which pydantic only keeps
    when ``use_attribute_docstrings`` is set (it is not), so read the source.
    """
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    tree = ast.parse(textwrap.dedent(source))
    cdef = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    if cdef is None:
        return {}
    info: dict[str, tuple[ast.expr, str | None]] = {}
    body = cdef.body
    for i, node in enumerate(body):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            doc = None
            nxt = body[i + 1] if i + 1 < len(body) else None
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
                doc = nxt.value.value
            info[node.target.id] = (node.annotation, doc)
    return info


def _declaring_class(model: type, field: str) -> type:
    for klass in model.__mro__:
        if field in klass.__dict__.get("__annotations__", {}):
            return klass
    return model


def _alias_names(klass: type, annotation: ast.expr | None) -> dict[Any, str]:
    """Literal aliases (``Currency: TypeAlias = Literal[...]``) named in a field's source annotation.

    At run time an alias is just its Literal, so the name only survives in the
    source; matching by value against the names actually written there keeps
    an inline ``Literal[...]`` from borrowing an unrelated alias's name.
    """
    if annotation is None:
        return {}
    module = sys.modules.get(klass.__module__)
    if module is None:
        return {}
    out: dict[Any, str] = {}
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            value = getattr(module, node.id, None)
            if value is not None and get_origin(value) is Literal:
                out.setdefault(value, node.id)
    return out


# --------------------------------------------------------------------------- types

_SCALARS: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    _dt.datetime: "datetime",
    _dt.date: "date",
    Any: "any",
    object: "any",
}

_LIST_ORIGINS = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Set)
_DICT_ORIGINS = (dict, collections.abc.Mapping)


def _is_model(tp: Any) -> bool:
    import pydantic

    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _sort_key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, repr(value))


class _TypeReader:
    """Turns one field annotation into (T, nullable); collects the models it meets."""

    def __init__(self, model_name: dict[type, str], aliases: dict[Any, str], where: str) -> None:
        self.model_name = model_name
        self.aliases = aliases
        self.where = where

    def field(self, tp: Any) -> tuple[dict[str, Any], bool]:
        return self._read(tp, top=True)

    def _read(self, tp: Any, *, top: bool = False) -> tuple[dict[str, Any], bool]:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            return self._read(get_args(tp)[0], top=top)
        if tp is type(None) or tp is None:
            raise UnsupportedAnnotation(f"{self.where}: bare None type")
        if origin is Union or origin is types.UnionType:
            return self._union(tp, top)
        if origin is Literal:
            values = list(get_args(tp))
            nullable = None in values
            if nullable and not top:
                raise UnsupportedAnnotation(f"{self.where}: None inside a nested Literal")
            values = [v for v in values if v is not None]
            name = self.aliases.get(tp)
            return {"t": "enum", "values": sorted(values, key=_sort_key), "name": name}, nullable
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            values = sorted((m.value for m in tp), key=_sort_key)
            return {"t": "enum", "values": values, "name": tp.__name__}, False
        if _is_model(tp):
            return {"t": "model", "name": self.model_name[tp]}, False
        if tp in _SCALARS:
            return {"t": _SCALARS[tp]}, False
        if origin in _LIST_ORIGINS or tp in (list, tuple, set, frozenset):
            args = [a for a in get_args(tp) if a is not Ellipsis]
            if origin is tuple and len(set(map(repr, args))) > 1:
                raise UnsupportedAnnotation(f"{self.where}: heterogeneous tuple {tp!r}")
            return {"t": "list", "items": self._inner(args[0] if args else Any)}, False
        if origin in _DICT_ORIGINS or tp is dict:
            key_value = get_args(tp)
            if key_value and key_value[0] is not str:
                raise UnsupportedAnnotation(f"{self.where}: dict key type {key_value[0]!r} is not str")
            return {"t": "dict", "values": self._inner(key_value[1] if key_value else Any)}, False
        raise UnsupportedAnnotation(f"{self.where}: cannot express {tp!r}")

    def _inner(self, tp: Any) -> dict[str, Any]:
        t, nullable = self._read(tp)
        if nullable:
            raise UnsupportedAnnotation(f"{self.where}: None nested inside {tp!r}")
        return t

    def _union(self, tp: Any, top: bool) -> tuple[dict[str, Any], bool]:
        nullable = False
        members: list[dict[str, Any]] = []
        for arg in get_args(tp):
            if arg is type(None):
                nullable = True
                continue
            t, inner_nullable = self._read(arg, top=top)
            nullable = nullable or inner_nullable
            for m in t["of"] if t["t"] == "union" else [t]:
                if m not in members:
                    members.append(m)
        if nullable and not top:
            raise UnsupportedAnnotation(f"{self.where}: None nested inside {tp!r}")
        if not members:
            raise UnsupportedAnnotation(f"{self.where}: union of None only")
        return (members[0] if len(members) == 1 else {"t": "union", "of": members}), nullable


# --------------------------------------------------------------------------- walking


def _models_in(tp: Any) -> list[type]:
    found: list[type] = []

    def walk(t: Any) -> None:
        if _is_model(t):
            found.append(t)
        elif get_origin(t) is not Literal:
            for arg in get_args(t):
                walk(arg)

    walk(tp)
    return found


def _reachable_models(roots: list[type[Any]]) -> list[type[Any]]:
    seen: dict[type[Any], None] = {}
    stack = list(reversed(roots))
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen[cls] = None
        for f in cls.model_fields.values():
            stack.extend(reversed(_models_in(f.annotation)))
    return list(seen)


def _assign_names(models: list[type]) -> dict[type, str]:
    """Bare class name when unique, else ``<module last segment>.<name>`` (e.g. the 30 per-event ``Data`` classes)."""
    counts: dict[str, int] = {}
    for cls in models:
        counts[cls.__name__] = counts.get(cls.__name__, 0) + 1
    names: dict[type, str] = {}
    for cls in models:
        name = cls.__name__
        if counts[name] > 1:
            name = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
        names[cls] = name
    if len(set(names.values())) != len(names):
        raise UnsupportedAnnotation(f"model names still collide: {sorted(names.values())}")
    return names


def _field_entry(model: type[Any], name: str, finfo: Any, model_name: dict[type[Any], str]) -> dict[str, Any]:
    klass = _declaring_class(model, name)
    annotation_ast, source_doc = _class_source_info(klass).get(name, (None, None))
    doc = getattr(finfo, "description", None) or source_doc  # explicit Field(description=) wins
    reader = _TypeReader(model_name, _alias_names(klass, annotation_ast), f"{model.__qualname__}.{name}")
    t, nullable = reader.field(finfo.annotation)
    entry = {"type": t, "required": bool(finfo.is_required()), "nullable": nullable, "doc": _first_paragraph(doc)}
    facts = field_facts(name, doc, t, set(getattr(model, "model_fields", {})))
    if facts:
        entry["facts"] = facts
    return entry


# --------------------------------------------------------------------------- what a field means

# an integer amount in a model that carries its currency is in that currency's smallest unit
# even where the docstring does not say so (Refund.amount: "The refunded amount.", a payout's fee)
_MONEY_NAME = re.compile(r"(^|_)(amount|tax|fee|refunds|chargebacks)($|_)")
_SAYS_MINOR = re.compile(r"smallest unit|minor units?", re.I)
_SAYS_BASIS_POINTS = re.compile(r"basis points", re.I)
_DEPRECATED = re.compile(r"^\s*DEPRECATED:?\s*(.*?)(?:\.\s|\.?$)")
_PERIOD_ROLE = re.compile(r"\b(start|end) of (?:the )?(?:current )?(?:billing |service )?period", re.I)
_AVOID_LENGTH = re.compile(r"Do not read the length of `(\w+)`")
_AVOID_NULL = re.compile(r"Do not read `(\w+)` for null")
_NULL_WHEN = re.compile(r"\bis null when ([^.]+)")
_SET_ONLY_FOR = re.compile(r"\bset only for ((?:`[a-z_]+\.[a-z_]+`(?:,? and |,? or |, )?)+)")


def field_facts(name: str, doc: str | None, t: dict[str, Any], siblings: set[str]) -> dict[str, Any]:
    """What the SDK's docstring (and, for money, the field's shape) says a field means.

    - ``unit``: ``minor`` for an integer amount in the currency's smallest unit (the
      docstring says so, or an amount/tax/fee field beside a ``currency``), with
      ``currency`` naming that field (``settlement_*`` amounts: ``settlement_currency``);
      ``basis_points`` where the docstring says so (a discount's percentage);
    - ``deprecated``: the docstring's replacement advice after "DEPRECATED:";
    - ``role``: ``period_start`` / ``period_end`` for a date the docstring calls the
      start or end of the (billing, service) period;
    - ``only_for``: the event types the docstring says the field is "set only for";
    - ``null_when``: what a null value means, where the docstring says "is null when ...";
    - ``advice``: "Do not read the length of `x`" / "Do not read `x` for null" sentences
      of this field's docstring: the SDK's way of saying *this* field answers that question
      (``advice_said``: those sentences, quoted by the diagnostic).
    """
    text = " ".join(inspect.cleandoc(doc).split()) if doc else ""
    facts: dict[str, Any] = {}
    if t.get("t") == "int":
        if _SAYS_BASIS_POINTS.search(text):
            facts["unit"] = "basis_points"
        else:
            currency = "settlement_currency" if name.startswith("settlement_") else "currency"
            if currency in siblings and (_SAYS_MINOR.search(text) or _MONEY_NAME.search(name)):
                facts["unit"] = "minor"
                facts["currency"] = currency
    deprecated = _DEPRECATED.match(text)
    if deprecated:
        facts["deprecated"] = deprecated.group(1).strip() or "deprecated"
    role = _PERIOD_ROLE.search(text)
    if role and t.get("t") in ("datetime", "date"):
        facts["role"] = f"period_{role.group(1).lower()}"
    only_for = _SET_ONLY_FOR.search(text)
    if only_for:
        facts["only_for"] = re.findall(r"`([a-z_]+\.[a-z_]+)`", only_for.group(1))
    null_when = _NULL_WHEN.search(text)
    if null_when:
        facts["null_when"] = null_when.group(1).strip()
    advice = [{"avoid": "length", "of": f} for f in _AVOID_LENGTH.findall(text)]
    advice += [{"avoid": "null", "of": f} for f in _AVOID_NULL.findall(text)]
    if advice:
        facts["advice"] = advice
        facts["advice_said"] = " ".join(re.findall(r"(?:Read this field|Do not read)[^.]*\.", text))
    return facts


def _model_entry(model: type[Any], model_name: dict[type[Any], str]) -> dict[str, Any]:
    fields = {name: _field_entry(model, name, f, model_name) for name, f in model.model_fields.items()}
    return {"doc": _first_paragraph(model.__dict__.get("__doc__")), "fields": fields}


def build_snapshot() -> dict[str, Any]:
    """The snapshot for the installed SDK, as a JSON-ready dict."""
    classes = event_classes()
    data_types = {et: cls.model_fields["data"].annotation for et, cls in classes.items()}
    for et, tp in data_types.items():
        if not _is_model(tp):
            raise UnsupportedAnnotation(f"{et}: data is {tp!r}, not a model")
    models = _reachable_models(list(data_types.values()))
    model_name = _assign_names(models)

    envelope: dict[str, dict[str, Any]] = {}
    for cls in classes.values():
        for name in _ENVELOPE_EXTRA:
            entry = _field_entry(cls, name, cls.model_fields[name], model_name)
            if envelope.setdefault(name, entry) != entry:
                raise UnsupportedAnnotation(f"{cls.__name__}.{name} differs from the other events' envelope")
        extra = set(cls.model_fields) - {"type", "data", *_ENVELOPE_EXTRA}
        if extra:
            raise UnsupportedAnnotation(f"{cls.__name__} has envelope fields {sorted(extra)} the format does not list")

    return {
        "sdk": {"package": SDK_PACKAGE, "version": sdk_version()},
        "envelope": envelope,
        "events": {et: {"class": cls.__name__, "data": model_name[data_types[et]]} for et, cls in classes.items()},
        "models": {model_name[m]: _model_entry(m, model_name) for m in models},
    }


def render(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- diff / CLI


def diff_summary(old: Any, new: Any, *, limit: int = 40) -> list[str]:
    """Human-readable paths that differ, capped so a big SDK bump stays readable."""
    lines: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                sub = f"{path}.{key}" if path else str(key)
                if key not in a:
                    lines.append(f"+ {sub}")
                elif key not in b:
                    lines.append(f"- {sub}")
                else:
                    walk(a[key], b[key], sub)
        elif a != b:
            lines.append(f"~ {path}: {_short(a)} -> {_short(b)}")

    walk(old, new, "")
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more"]
    return lines


def model_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two snapshots in what the checker reads: event types, then every
    other path. The SDK version they were made with is not a change: a release that changes
    no model needs no refresh."""
    old_events, new_events = set(old.get("events", {})), set(new.get("events", {}))
    lines = []
    if new_events - old_events:
        lines.append("new event types: " + ", ".join(sorted(new_events - old_events)))
    if old_events - new_events:
        lines.append("removed event types: " + ", ".join(sorted(old_events - new_events)))
    return lines + diff_summary({k: v for k, v in old.items() if k != "sdk"},
                                {k: v for k, v in new.items() if k != "sdk"})


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def refresh(*, check: bool, path: Path = SNAPSHOT_PATH, out: Any = None) -> int:
    """Write (or with check=True, verify) the snapshot; 0 = up to date / written, 1 = stale."""
    out = sys.stdout if out is None else out
    fresh = render(build_snapshot())
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == fresh:
        print(f"{path.name} is up to date (dodopayments {sdk_version()})", file=out)
        return 0
    if check:
        old = json.loads(current) if current else {}
        made_with = old.get("sdk", {}).get("version", "?")
        changes = model_changes(old, json.loads(fresh))
        if not changes and current == render(old):
            print(f"{path.name}: models unchanged (made with dodopayments {made_with}, "
                  f"installed {sdk_version()})", file=out)
            return 0
        print(f"{path} (made with dodopayments {made_with}) is stale for dodopayments {sdk_version()}; "
              "run `segmap schema-refresh`:", file=out)
        for line in changes or ["(formatting only)"]:
            print(f"  {line}", file=out)
        return 1
    path.write_text(fresh, encoding="utf-8")
    print(f"wrote {path} (dodopayments {sdk_version()})", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segmap.compiler.snapshot_gen", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff summary if the shipped snapshot is stale")
    args = parser.parse_args(argv)
    try:
        return refresh(check=args.check)
    except SdkUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
