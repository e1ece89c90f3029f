"""Meaning checks: events, paths, functions, types and Segment rules.

The checker walks the AST once per Dodo event type a rule applies to
(a glob rule is checked against every event it matches), infers a type for
every expression from the SDK models, and collects every problem. Problems
found identically for several events are reported once, naming the events.
Its output, besides diagnostics, is the *plan* (``plan.py``): event type -> the
calls to make, with defaults merged, which is all the generators need.
"""
from __future__ import annotations

import fnmatch
from typing import Any

from segmap.compiler import function_types, meaning_checks, sdk_checks, segment_rules, spec_checks
from segmap.compiler import types as T
from segmap.compiler.plan import Plan, PlannedCall, PlannedField
from segmap.compiler.scope import Scope, non_null_paths, static_truth
from segmap.compiler.types import Ty
from segmap.compiler.wording import containing, method_name as _method_name, path_text, quoted, show, suggest
from segmap.diagnostics.model import Diagnostic, Severity, Span
from segmap.dsl import ast
from segmap.dsl.segment_fields import CALL_FIELDS, REQUIRED_FIELDS

KNOWN_FUNCTIONS_EXTRA = ("map", "filter")


class Checker:
    def __init__(self, mapping: ast.MappingFile):
        self.mapping = mapping
        self._diags: dict[tuple[str, Span | None, str], Diagnostic] = {}
        self._events_for: dict[tuple[str, Span | None, str], list[str]] = {}
        self.all_events = T.event_types()
        self.current_event = ""
        self._context: Span | None = None  # the expression being checked, to tell which events a problem concerns
        self._context_of: dict[tuple[str, Span | None, str], Span | None] = {}
        self._context_events: dict[Span | None, set[str]] = {}
        # id(expr) -> its type for the event being checked (the Segment rules read the
        # types of sub-expressions, e.g. the entries of `properties:`)
        self.types: dict[int, Ty] = {}
        self.rule_events: dict[int, tuple[str, ...]] = {}  # id(rule) -> the events it runs for
        self.current_rule: ast.EventRule | None = None
        self._muted = False  # typing a call its guard never makes for the current event: report nothing
        self.current_non_null: frozenset[str] = frozenset()  # paths the current call's `when:` proves non-null
        self.watched_reads = 0  # reads in the current call of fields the SDK's advice is about (sdk_checks)

    # --- reporting ----------------------------------------------------------
    def report(self, code: str, message: str, span: Span | None, **kw: Any) -> None:
        if self._muted:
            return
        key = (code, span, message)
        self._context_of.setdefault(key, self._context)
        if key in self._diags:
            self._events_for[key].append(self.current_event)
            return
        sev = Severity.WARNING if code.startswith("W") else Severity.NOTE if code.startswith("N") else Severity.ERROR
        self._diags[key] = Diagnostic(code, sev, message, span, **kw)
        self._events_for[key] = [self.current_event]

    def diagnostics(self) -> list[Diagnostic]:
        out = []
        for key, d in self._diags.items():
            events = [e for e in dict.fromkeys(self._events_for[key]) if e]
            checked = self._context_events.get(self._context_of.get(key), set())
            if events and len(checked) > 1 and set(events) != checked:
                shown = ", ".join(events[:6]) + (f" and {len(events) - 6} more" if len(events) > 6 else "")
                d = Diagnostic(d.code, d.severity, d.message, d.span,
                               d.notes + (f"for event{'s' if len(events) > 1 else ''} {shown}",),
                               d.suggestion, d.hint, d.label)
            out.append(d)
        return sorted(out, key=Diagnostic.sort_key)

    # --- events -------------------------------------------------------------
    def resolve_events(self) -> dict[str, ast.EventRule]:
        """Dodo event type -> the rule that handles it (an exact name wins, then the first pattern)."""
        rule_of: dict[str, ast.EventRule] = {}
        exact: dict[str, ast.EventRule] = {}
        globs: list[tuple[ast.EventRule, list[str]]] = []
        for rule in self.mapping.rules:
            if rule.is_glob:
                matched = [e for e in self.all_events if fnmatch.fnmatchcase(e, rule.pattern)]
                if not matched:
                    self.report("E202", f"pattern `{rule.pattern}` matches no Dodo event type", rule.span,
                                suggestion=suggest(rule.pattern, self._glob_suggestions()),
                                notes=("event families: " + ", ".join(sorted({e.split('.')[0] + '.*' for e in self.all_events})),))
                globs.append((rule, matched))
            elif rule.pattern in self.all_events:
                exact[rule.pattern] = rule
            else:
                family = [e for e in self.all_events if e.split(".")[0] == rule.pattern.split(".")[0]]
                notes = (f"the {rule.pattern.split('.')[0]} events are: " + ", ".join(family),) if family else (
                    "event families: " + ", ".join(sorted({e.split('.')[0] + '.*' for e in self.all_events})),)
                self.report("E201", f"unknown Dodo event type `{rule.pattern}`", rule.span,
                            suggestion=suggest(rule.pattern, self.all_events), notes=notes,
                            hint="`segmap check --coverage` lists every event type")
        for ev in self.all_events:
            found = exact.get(ev)
            if found is None:
                found = next((r for r, m in globs if ev in m), None)
            if found is None:
                continue
            rule_of[ev] = found
            self.rule_events[id(found)] = self.rule_events.get(id(found), ()) + (ev,)
        for rule, matched in globs:
            if matched and not any(rule_of.get(e) is rule for e in matched):
                self.report("W202", f"pattern `{rule.pattern}` is shadowed: every event it matches has its own rule or an earlier pattern",
                            rule.span)
        return rule_of

    def merged_fields(self, spec: ast.CallSpec) -> tuple[ast.FieldSpec, ...]:
        """A call's fields in output order: as JavaScript's ``{...defaults, ...call}`` orders them.

        The defaults valid for its call type come first, in the order `defaults:`
        lists them, a call's own field taking its default's place; then the call's
        other fields as written (``track: Name`` first). The starter's bodies thus
        start with ``userId`` as Dodo's examples do (docs/export-js.md).
        """
        allowed = CALL_FIELDS[spec.kind]
        mine = {f.name: f for f in spec.fields}
        merged = [mine.get(d.name, d) for d in self.mapping.defaults if d.name in allowed]
        placed = {f.name for f in merged}
        return tuple(merged + [f for f in spec.fields if f.name not in placed])

    def _glob_suggestions(self) -> list[str]:
        fams = {e.split(".")[0] for e in self.all_events}
        return [f"{f}.*" for f in fams] + list(self.all_events)

    # --- the whole file -----------------------------------------------------
    def check(self) -> tuple[list[Diagnostic], Plan]:
        """Every problem of the file, and the plan: each event's calls with the type of every field."""
        rule_of = self.resolve_events()
        plan = Plan(rule_of=rule_of)
        for ev, rule in rule_of.items():
            self.current_event = ev
            self.current_rule = rule
            plan.calls[ev] = tuple(self._check_quietly(ev, spec) if self._guard_excludes(spec, ev)
                                   else self.check_call(ev, spec) for spec in rule.calls)
            self.types.clear()
        self.current_event = ""
        self.current_rule = None
        self._context = None
        segment_rules.check_file(self, self.mapping)
        return self.diagnostics(), plan

    def _guard_excludes(self, spec: ast.CallSpec, event: str) -> bool:
        """True when the call's `when:` is false for ``event`` by its `type` alone, as `segmap plan`
        decides (``static_truth``). A guard false for *every* event of its rule is still checked
        everywhere, so that its mistake (a type the rule never sees) is reported."""
        when = spec.when
        if when is None or static_truth(when, event) is not False:
            return False
        events = self.rule_events.get(id(self.current_rule), ()) if self.current_rule else ()
        return any(static_truth(when, e) is not False for e in events)

    def _check_quietly(self, event: str, spec: ast.CallSpec) -> PlannedCall:
        """The planned call (typed, unreachable) of a call its guard never makes for ``event``:
        `when: type == "credit.added"` in `credit.*` reads fields other credit events lack,
        and that is no mistake, so nothing is reported."""
        self._muted = True
        try:
            return self.check_call(event, spec)
        finally:
            self._muted = False

    def check_call(self, event: str, spec: ast.CallSpec) -> PlannedCall:
        fields = self.merged_fields(spec)
        scope = Scope(event)
        self.watched_reads = 0
        self._enter(spec.span)
        if spec.when is not None:
            self._enter(spec.when.span)
            wt = self.infer(spec.when, scope)
            self.expect_bool(spec.when, wt, "a `when:` guard")
            segment_rules.check_templates(self, spec.when, None)
            scope = scope.narrowed(non_null_paths(spec.when, True))
        self.current_non_null = scope.non_null
        self.check_required(spec, {f.name for f in fields} | set(spec.broken_fields))
        self._enter(spec.span)
        typed = []
        for f in fields:
            self._enter(f.value.span)
            ty = self.infer(f.value, scope)
            self.check_field(spec, f, ty)
            typed.append(PlannedField(f, ty))
        meaning_checks.check_call(self, spec, fields)
        meaning_checks.check_time(self, fields, event)
        if self.watched_reads:
            sdk_checks.check_reads(self, ([spec.when] if spec.when is not None else []) + [f.value for f in fields],
                                   self.current_non_null)
        reachable = spec.when is None or static_truth(spec.when, event) is not False
        return PlannedCall(event, spec, tuple(typed), reachable)

    def check_required(self, spec: ast.CallSpec, names: set[str]) -> None:
        """Segment's required fields (``REQUIRED_FIELDS``), each missing one reported once."""
        missing = [alts for alts in REQUIRED_FIELDS[spec.kind] if not names.intersection(alts)]
        if spec.kind == "alias":
            if missing:
                self.report("E403", f"alias call needs {' and '.join('`' + m[0] + '`' for m in missing)}", spec.span)
            return
        for alts in missing:
            if alts == ("event",):
                self.report("E402", "track call has no event name", spec.span,
                            hint="write the name after the key: `- track: Order Completed`")
            elif len(alts) > 1:
                self.report("E401", f"{spec.kind} call has no {' or '.join('`' + a + '`' for a in alts)}", spec.span,
                            hint="add `userId: data.customer.customer_id` (or an anonymousId) to the call or to `defaults:`")
            else:
                self.report("E403", f"{spec.kind} call needs `{alts[0]}`", spec.span)

    def _enter(self, context: Span) -> None:
        if self._muted:
            return
        self._context = context
        self._context_events.setdefault(context, set()).add(self.current_event)

    def check_field(self, spec: ast.CallSpec, f: ast.FieldSpec, ty: Ty) -> None:
        """Segment's expectations of one field's value (extended by the Segment rules module)."""
        segment_rules.check_field(self, spec, f, ty)

    # --- expressions ------------------------------------------------------
    def expect_bool(self, expr: ast.Expr, ty: Ty, what: str) -> None:
        if not ty.could_be(lambda t: t.kind == "bool") and ty.kind not in ("null", "never"):
            src = show(expr)
            hint = f"compare it: `{src} != null`" if ty.maybe_empty else f"compare it: `{src} == ...`"
            self.report("E301", f"{what} must be true or false, but `{src}` is {ty.describe()}", expr.span,
                        hint=hint, notes=("segmap has no truthiness: conditions are comparisons, `and`, `or`, `not`",))

    def infer(self, expr: ast.Expr, scope: Scope) -> Ty:
        ty: Ty = getattr(self, _method_name("_infer_", type(expr).__name__))(expr, scope)
        self.types[id(expr)] = ty
        return ty

    def type_of(self, expr: ast.Expr) -> Ty | None:
        """The type ``expr`` was given while checking the current event (None if not checked)."""
        return self.types.get(id(expr))

    def _infer_Literal(self, e: ast.Literal, scope: Scope) -> Ty:
        v = e.value
        if v is None:
            return T.NULL
        if isinstance(v, bool):
            return T.BOOL
        if isinstance(v, int):
            return T.INT
        if isinstance(v, float):
            return T.NUM
        return Ty("str", (v,))  # remember the constant for enum comparisons

    def _infer_Name(self, e: ast.Name, scope: Scope) -> Ty:
        if e.name in scope.variables:
            return scope.variables[e.name]
        env = T.envelope_type(scope.event)
        for key, ty in env.args:
            if key == e.name:
                root: Ty = ty
                return root
        options = list(scope.variables) + list(T.ENVELOPE_ROOTS)
        # the right scope first: a name spelt like an envelope field or a map() variable; then a
        # field of the event's data written without `data.` (`customer.email`); else nothing
        found = suggest(e.name, options)
        if found is None:
            data = dict(env.args).get("data")
            if data is not None and data.required().kind == "model" and e.name in T.model_fields(data.required().name):
                found = f"data.{e.name}"
        self.report("E206", f"unknown name `{e.name}`", e.span, suggestion=found,
                    notes=("names are the envelope fields business_id, type, timestamp, data"
                           + (" and the map() variable" + ("s " if len(scope.variables) > 1 else " ") + ", ".join(scope.variables) if scope.variables else ""),),
                    hint=f"for the text {e.name}, quote it inside the expression: '\"{e.name}\"'")
        return T.ANY

    def _infer_Field(self, e: ast.Field, scope: Scope) -> Ty:
        obj = self.infer(e.obj, scope)
        ty = self.member(obj, e, scope)
        sdk_checks.check_deprecated(self, e)
        if sdk_checks.watched(obj, e.name):
            self.watched_reads += 1
        if ty.maybe_empty and path_text(e) in scope.non_null:
            ty = ty.required()
        return ty

    def member(self, obj: Ty, e: ast.Field, scope: Scope) -> Ty:
        through_empty = obj.maybe_empty
        base = obj.required()
        result: Ty
        if base.kind == "any" or base.kind == "never":
            result = T.ANY
        elif base.kind == "null":
            self.report("E301", f"`{e.name}` is read from a value that is always null", e.span)
            result = T.ANY
        elif base.kind == "model":
            fields = T.model_fields(base.name)
            if e.name in fields:
                result = fields[e.name]
            else:
                self.unknown_field(e, base, list(fields), scope)
                result = T.ANY
        elif base.kind == "object":
            fields = dict(base.args)
            if e.name in fields:
                result = fields[e.name]
            else:
                self.unknown_field(e, base, list(fields), scope)
                result = T.ANY
        elif base.kind == "dict":
            result = base.args[0].with_flags(optional=True)
        elif base.kind == "union":
            opts = []
            missing_somewhere = False
            for o in base.args:
                if o.kind == "model" and e.name in T.model_fields(o.name):
                    opts.append(T.model_fields(o.name)[e.name])
                elif o.kind in ("dict", "any"):
                    opts.append(o.args[0] if o.kind == "dict" else T.ANY)
                    missing_somewhere = True
                else:
                    missing_somewhere = True
            if not opts:
                self.report("E203", f"no field `{e.name}` on {base.describe()}", e.name_span)
                return T.ANY
            result = T.union(*opts).with_flags(optional=missing_somewhere or T.union(*opts).optional)
        else:
            where = show(e.obj)
            self.report("E203", f"`{where}` is {base.describe()}, which has no field `{e.name}`", e.name_span)
            return T.ANY
        if through_empty:
            result = result.with_flags(optional=True)
        return result

    def unknown_field(self, e: ast.Field, base: Ty, fields: list[str], scope: Scope) -> None:
        if isinstance(e.obj, ast.Name) and e.obj.name == "data" and e.name in T.ENVELOPE_ROOTS \
                and "data" not in scope.variables:
            # `data.type`: the envelope's own field, not a field of the payload spelt like it (`card_type`)
            self.report("E203", f"`data` has no field `{e.name}`: `{e.name}` is a field of the envelope, beside `data`",
                        e.span, suggestion=e.name,
                        notes=("the envelope is {business_id, type, timestamp, data}; paths start at one of them",))
            return
        notes = []
        full = path_text(e)
        if full and full.startswith("data."):
            others = [ev for ev in self.all_events if ev != scope.event and self._path_exists(ev, full)]
            if others:
                shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
                notes.append(f"`{full}` exists on {shown}")
        where = show(e.obj)
        what = f" ({base.describe()})" if base.kind == "model" else ""
        # a close spelling only (0.7): `customer_idd` -> `customer_id`, never `type` -> `card_type`
        self.report("E203", f"`{where}`{what} has no field `{e.name}`", e.name_span, suggestion=suggest(e.name, fields, 0.7),
                    notes=tuple(notes) + (f"the fields of {base.describe()}: " + ", ".join(sorted(fields)[:12])
                                           + (", ..." if len(fields) > 12 else ""),))

    def _path_exists(self, event: str, path: str) -> bool:
        parts = path.split(".")
        ty = dict(T.envelope_type(event).args).get(parts[0])
        for p in parts[1:]:
            if ty is None:
                return False
            ty = ty.required()
            if ty.kind == "model":
                ty = T.model_fields(ty.name).get(p)
            elif ty.kind in ("dict", "any"):
                return True
            else:
                return False
        return ty is not None

    def _infer_Index(self, e: ast.Index, scope: Scope) -> Ty:
        obj = self.infer(e.obj, scope)
        idx = self.infer(e.index, scope)
        base = obj.required()
        if base.kind in ("list", "dict"):
            if base.kind == "list" and not idx.could_be(lambda t: t.kind == "int" or (t.kind == "float")) \
                    and idx.kind != "any":
                self.report("E301", f"a list index must be an integer, but this is {idx.describe()}", e.index.span)
            item: Ty = base.args[0]
            return item.with_flags(optional=True)
        if base.kind in ("any", "model", "object", "union", "never"):
            return T.ANY.with_flags(optional=True)
        self.report("E301", f"`{show(e.obj)}` is {base.describe()} and cannot be indexed", e.span)
        return T.ANY

    def _infer_Unary(self, e: ast.Unary, scope: Scope) -> Ty:
        t = self.infer(e.operand, scope)
        if e.op == "not":
            self.expect_bool(e.operand, t, "the operand of `not`")
            return T.BOOL
        if not t.could_be(lambda x: x.is_numeric):
            self.report("E301", f"cannot negate {t.describe()}", e.operand.span)
            return T.NUM
        return (T.INT if t.required().kind == "int" else T.NUM).with_flags(t.nullable, t.optional)

    def _infer_Binary(self, e: ast.Binary, scope: Scope) -> Ty:
        op = e.op
        if op == "??":
            left = self.infer(e.left, scope)
            right = self.infer(e.right, scope)
            if not left.maybe_empty and left.kind != "any":
                self.report("W303", f"`??` default is never used: `{path_text(e.left) or 'the left side'}` is never null or absent",
                            e.op_span, hint="remove the default, or check the field name")
            return T.union(left.required(), right)
        if op in ("and", "or"):
            left = self.infer(e.left, scope)
            self.expect_bool(e.left, left, f"the left side of `{op}`")
            if static_truth(e.left, scope.event) is (op == "or"):
                return T.BOOL  # decided by the event type: the right side never runs for this event
            inner = scope.narrowed(non_null_paths(e.left, True)) if op == "and" else scope
            right = self.infer(e.right, inner)
            self.expect_bool(e.right, right, f"the right side of `{op}`")
            return T.BOOL
        left = self.infer(e.left, scope)
        right = self.infer(e.right, scope)
        if op in ("==", "!="):
            self.check_compare(e, left, right)
            return T.BOOL
        if op in ("<", "<=", ">", ">="):
            lb, rb = left.required(), right.required()
            ok = (lb.could_be(lambda t: t.is_numeric) and rb.could_be(lambda t: t.is_numeric)) or (
                lb.could_be(lambda t: t.is_stringy) and rb.could_be(lambda t: t.is_stringy))
            if not ok and "null" not in (lb.kind, rb.kind):
                self.report("E301", f"cannot compare {left.describe()} with {right.describe()} using `{op}`", e.op_span,
                            notes=("`<`, `<=`, `>` and `>=` compare two numbers or two texts",))
            elif ok:
                spec_checks.check_ordering_null(self, e, left, right)
            return T.BOOL
        flags = dict(nullable=left.nullable or right.nullable, optional=left.optional or right.optional)
        if op == "+" and left.could_be(lambda t: t.is_stringy) and right.could_be(lambda t: t.is_stringy) and not (
                left.could_be(lambda t: t.is_numeric) or right.could_be(lambda t: t.is_numeric)):
            return T.STR.with_flags(**flags)
        for side, t in ((e.left, left), (e.right, right)):
            if not t.could_be(lambda x: x.is_numeric) and t.kind not in ("null", "never"):
                src = path_text(side)
                notes: tuple[str, ...]
                hint: str | None
                if t.could_be(lambda x: x.is_stringy):
                    what = "text"
                    if isinstance(side, ast.Call) and side.func == "fixed":
                        hint = "fixed() returns text; do the arithmetic first and format the result, or use round(x, digits)"
                    elif isinstance(side, ast.Literal):
                        hint = "write the number without quotes"
                    else:
                        hint = f"convert it first: number({src or '...'})"
                    if op == "+":
                        notes = ("`+` adds two numbers or joins two texts, not a mix; "
                                 "to build text use a template: f\"{a} {b}\"",)
                    else:
                        notes = ()
                else:
                    what, hint, notes = t.describe(), None, ()
                doc = self.field_doc(side)
                if doc:
                    notes = notes + (doc,)
                self.report("E301", f"arithmetic `{op}` on {what}: `{show(side)}` is {t.describe()}",
                            side.span, hint=hint, notes=notes)
                return T.NUM.with_flags(**flags)
        if op in ("/", "*"):
            segment_rules.check_hundred(self, e, scope)
        if op != "/" and left.required().kind == "int" and right.required().kind == "int":
            return T.INT.with_flags(**flags)
        return T.NUM.with_flags(**flags)

    def field_doc(self, expr: ast.Expr) -> str | None:
        """`Dispute.amount: <doc>` for a path into a model, to explain where a type comes from."""
        if not isinstance(expr, ast.Field):
            return None
        owner = self.type_of(expr.obj)
        if owner is None or owner.required().kind != "model":
            return None
        model = owner.required().name
        if model is None:  # pragma: no cover - a model type always has its name
            return None
        ty = T.model_fields(model).get(expr.name)
        if ty is None:
            return None
        short = model if "." not in model else "the event's data model"
        text = f"`{expr.name}` is {ty.describe()} in the Dodo SDK ({short})"
        doc = T.field_doc(model, expr.name)
        if doc:
            doc = " ".join(doc.split())
            text += f": {doc[:120]}{'...' if len(doc) > 120 else ''}"
        return text

    def check_compare(self, e: ast.Binary, left: Ty, right: Ty) -> None:
        """`==` / `!=` whose outcome is fixed: an enum against a value outside it, or no common type."""
        always = "false" if e.op == "==" else "true"
        for a, at, b in ((e.left, left, e.right), (e.right, right, e.left)):
            if not (isinstance(b, ast.Literal) and isinstance(b.value, str)):
                continue
            base = at.required()
            if base.kind != "enum":
                continue
            if isinstance(a, ast.Name) and a.name == "type":
                self._check_type_compare(b, always)
                return
            if b.value not in base.args:
                allowed = ", ".join(f'"{v}"' for v in base.args[:12]) + (", ..." if len(base.args) > 12 else "")
                # an inline Literal type has no name (a payout's status): say whose values instead
                what = f"a {base.name} value" if base.name else "among the values the SDK allows"
                self.report("E302", f"`{show(a)}` is never \"{b.value}\": it is not {what}, "
                            f"so `{e.op}` is always {always}", b.span,
                            suggestion=quoted(suggest(b.value, [str(v) for v in base.args])
                                               or containing(b.value, [str(v) for v in base.args])),
                            notes=(f"allowed values: {allowed}",))
            return
        lc, rc = _categories(left), _categories(right)
        if lc and rc and not (lc & rc):
            lit = e.right if isinstance(e.right, ast.Literal) else e.left if isinstance(e.left, ast.Literal) else None
            self.report("E302", f"comparing {left.required().describe()} with {right.required().describe()}: "
                        f"`{e.op}` is always {always}", lit.span if lit is not None else e.span,
                        notes=("values of different types are never equal (no conversion happens)",),
                        hint="convert one side: number(x) or string(x)" if lc | rc == {"number", "text"} else None)

    def _check_type_compare(self, lit: ast.Literal, always: str) -> None:
        value = str(lit.value)  # the caller compares `type` with a string literal
        if value not in self.all_events:
            self.report("E302", f"\"{value}\" is not a Dodo event type, so the comparison is always {always}", lit.span,
                        suggestion=quoted(suggest(value, self.all_events)),
                        hint="`segmap check --coverage` lists every event type")
            return
        events = self.rule_events.get(id(self.current_rule), ()) if self.current_rule else ()
        if events and value not in events and self.current_rule is not None:
            pattern = self.current_rule.pattern
            self.report("E302", f"this rule runs only for `{pattern}`, never for \"{value}\": the comparison is always {always}",
                        lit.span, notes=(f"`{pattern}` matches: " + ", ".join(events[:8]) + (", ..." if len(events) > 8 else ""),))

    def _infer_Cond(self, e: ast.Cond, scope: Scope) -> Ty:
        t = self.infer(e.test, scope)
        self.expect_bool(e.test, t, "an `if` condition")
        decided = static_truth(e.test, scope.event)
        if decided is not None:  # `if type == "credit.added" then ... else ...`: one branch per event
            taken = e.then if decided else e.orelse
            return self.infer(taken, scope.narrowed(non_null_paths(e.test, decided)))
        then = self.infer(e.then, scope.narrowed(non_null_paths(e.test, True)))
        orelse = self.infer(e.orelse, scope.narrowed(non_null_paths(e.test, False)))
        return T.union(then, orelse)

    def _infer_Template(self, e: ast.Template, scope: Scope) -> Ty:
        for part in e.parts:
            if isinstance(part, str):
                continue
            t = self.infer(part, scope)
            if t.required().kind in ("list", "dict", "model", "object"):
                self.report("E301", f"cannot put {t.describe()} into text: `{show(part)}` is not a single value",
                            part.span, hint="pick one of its fields, e.g. `{" + show(part) + ".<field>}`")
        return T.STR

    def _infer_ObjectLit(self, e: ast.ObjectLit, scope: Scope) -> Ty:
        fields = []
        seen: dict[str, ast.ObjectEntry] = {}
        for entry in e.entries:
            if entry.key in seen:
                self.report("E004", f"duplicate key `{entry.key}`", entry.key_span,
                            notes=(f"first given at line {seen[entry.key].key_span.line}, "
                                   f"column {seen[entry.key].key_span.col}",))
            seen.setdefault(entry.key, entry)
            fields.append((entry.key, self.infer(entry.value, scope)))
        return Ty("object", tuple(fields))

    def _infer_ListLit(self, e: ast.ListLit, scope: Scope) -> Ty:
        items = [self.infer(i, scope) for i in e.items]
        return Ty("list", (T.union(*items) if items else T.NEVER,))

    def _infer_Lambda(self, e: ast.Lambda, scope: Scope) -> Ty:
        self.report("E207", "`x => ...` is only allowed as the second argument of map() or filter()", e.span)
        return T.ANY

    def _infer_Call(self, e: ast.Call, scope: Scope) -> Ty:
        return function_types.infer_call(self, e, scope)


def _categories(t: Ty) -> frozenset[str] | None:
    """What a value of type ``t`` can be when not null: number/text/bool/object/list; None if unknown."""
    t = t.required()
    if t.kind in ("any", "never", "null"):
        return None
    parts = t.args if t.kind == "union" else (t,)
    out = set()
    for p in parts:
        if p.kind in ("int", "float"):
            out.add("number")
        elif p.is_stringy:
            out.add("text")
        elif p.kind == "bool":
            out.add("bool")
        elif p.kind in ("model", "object", "dict"):
            out.add("object")
        elif p.kind == "list":
            out.add("list")
        else:
            return None
    return frozenset(out)
