"""Checked plan -> one Svix ``function handler(webhook)`` in plain ES2019.

The second generator over the same checked :class:`~segmap.compiler.plan.Plan`
and AST as :mod:`segmap.compiler.pygen` ("one AST, many generators"): it never
looks at Python output. Each construct is emitted with the same evaluation
order, the same MISSING (= ``undefined``) rules and the same run-time checks
as pygen, and every value operation goes through the ``__sm_`` twin of the
Python helper (``segmap/compiler/js_runtime.js``), tree-shaken to the helpers
the mapping uses. tests/js runs both targets on the same envelopes and
requires identical calls, or a failure at the same mapping location. pygen
may fold, share and inline for speed; this generator stays literal (the
dashboard runs it once per webhook, and its size limit matters more), and
the differential tests are what keep the two equal.

Why this shape:

- Everything lives inside ``handler``: the dashboard stores one script and
  calls ``handler``; nothing leaks into its global scope.
- User text (event names, keys, string constants, file and path names) is
  only ever a JSON string literal with every non-ASCII character, ``<``,
  ``>`` and ``&`` escaped (so U+2028/U+2029 and ``</script>`` are inert and
  the file is pure ASCII); identifiers are generated; comments are ours.
  ``__proto__`` as an object key is written as a computed key, which makes
  an own property instead of setting the prototype.
- A run-time failure is re-thrown as an Error named
  ``MappingRuntimeError`` whose message starts with the mapping position
  (``file:line:col``) of the failing sub-expression, the same position
  Python's ``MappingRuntimeError.location`` gives: each statement that can
  fail first stores its location index in ``L``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from segmap.diagnostics.model import Diagnostic, Span
from segmap.compiler.literals import literal_operand, number_literal_problem
from segmap.compiler.paths import PathKey, envelope_paths, static_path
from segmap.compiler.plan import Plan, PlannedCall, PlannedField
from segmap.compiler.wording import method_name as _method_name
from segmap.dsl import ast
from segmap.dsl.segment_fields import OBJECT_FIELDS
from segmap.errors import SegmapError
from segmap.runtime import jsjson as _jsjson

if TYPE_CHECKING:
    from os import PathLike


#: The dashboard refuses transformation code longer than this (characters).
MAX_CODE_CHARS = 51_200
MIN_CODE_CHARS = 10

#: Segment HTTP API bases (Segment's regional endpoints), each ending in ``/v1/``.
REGION_HOSTS = {
    "us": "https://api.segment.io/v1/",
    "eu": "https://events.eu1.segmentapis.com/v1/",
}

_HOST_RE = re.compile(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~\-/]*)?")


class JsExportError(SegmapError):
    """The mapping is valid but cannot be exported (too large, or not expressible in JS).

    ``span`` points at the mapping construct responsible, when there is one.
    """

    def __init__(self, message: str, span: Span | None = None):
        super().__init__(f"{span}: {message}" if span else message)
        self.message = message
        self.span = span


def base_url(region: str = "us", host: str | None = None) -> str:
    """The URL prefix calls are appended to: a region's host, or ``host`` + ``/v1/``.

    ``host`` may be given with or without the ``/v1`` suffix (server SDKs take
    it without, raw HTTP needs it); anything but a plain http(s) URL is refused.
    """
    if host is None:
        if region not in REGION_HOSTS:
            raise ValueError(f"unknown region {region!r}; use one of {', '.join(REGION_HOSTS)}")
        return REGION_HOSTS[region]
    if not _HOST_RE.fullmatch(host):
        raise ValueError(f"--host must be an http(s) URL without query or fragment, got {host!r}")
    h = host.rstrip("/")
    return h + "/" if h.endswith("/v1") else h + "/v1/"


# --- literals -----------------------------------------------------------------

_UNSAFE_ASCII = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def js_string(s: str) -> str:
    """A JS string literal for any Python str (lone surrogates included), pure ASCII."""
    out = json.dumps(s, ensure_ascii=True)
    for ch, esc in _UNSAFE_ASCII.items():
        out = out.replace(ch, esc)
    return out


def js_key(key: str) -> str:
    """An object-literal key; ``__proto__`` must be computed to become an own member."""
    return "[" + js_string(key) + "]" if key == "__proto__" else js_string(key)


def js_lit(value: object, span: Span | None = None) -> str:
    """A JS literal for a JSON scalar of the mapping; refuses what JS would change."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, (int, float)):
        problem = number_literal_problem(value)
        if problem is not None:
            raise JsExportError(problem, span)
        return str(value) if isinstance(value, int) else repr(value)
    raise TypeError(f"not a literal: {type(value).__name__}")


# --- one event function ---------------------------------------------------------

# expressions whose value is never undefined: a member holding one needs no `delete`
_NEVER_UNDEFINED = (ast.Literal, ast.Template, ast.ObjectLit, ast.ListLit)
_NAME_SLOT = "__sm_event_fn__"  # stands for the function's name until it is known


class _Out:
    """Indented lines; ``at`` is a location index stored in ``L`` before the line runs."""

    def __init__(self, indent: int):
        self.lines: list[str] = []
        self.indent = indent

    def emit(self, code: str, at: int | None = None) -> None:
        self.lines.append("  " * self.indent + (f"L = {at}; " if at is not None else "") + code)

    def open(self, head: str, at: int | None = None) -> None:
        self.emit(head + " {", at)
        self.indent += 1

    def close(self, tail: str = "}") -> None:
        self.indent -= 1
        self.emit(tail)


class _FunctionGen:
    """One JS function ``eN(env)`` returning ``[[kind, body], ...]``, mirroring pygen._FunctionGen."""

    def __init__(self, fn_name: str, calls: tuple[PlannedCall, ...], gen: "_ModuleGen"):
        self.fn_name = fn_name
        self.calls = calls
        self.gen = gen
        self.out = _Out(2)
        self.vars: list[str] = []
        self.paths: dict[PathKey, str] = {}
        self.lambda_vars: list[dict[str, str]] = []

    def new(self, prefix: str = "t") -> str:
        name = f"{prefix}{len(self.vars) + 1}"
        self.vars.append(name)
        return name

    def at(self, span: Span) -> int:
        return self.gen.location(span)

    def use(self, *names: str) -> None:
        self.gen.helpers.update(names)

    # --- paths --------------------------------------------------------------
    def _collect_paths(self) -> None:
        for key in envelope_paths(self.calls):
            self.paths[key] = self.new("p")

    def _emit_paths(self) -> None:
        if self.paths:
            self.use("__sm_index")
        for key, var in sorted(self.paths.items(), key=lambda kv: len(kv[0])):
            parent = "env" if len(key) == 1 else self.paths[key[:-1]]
            self.out.emit(f"{var} = __sm_index({parent}, {js_lit(key[-1])});")

    # --- expressions ----------------------------------------------------------
    def expr(self, e: ast.Expr) -> str:
        """A JS name or literal holding the value of ``e``, after emitting what computes it."""
        sp = static_path(e)
        if sp is not None:
            root, keys = sp
            for scope in reversed(self.lambda_vars):
                if root in scope:
                    cur = scope[root]
                    for k in keys:
                        self.use("__sm_index")
                        t = self.new()
                        self.out.emit(f"{t} = __sm_index({cur}, {js_lit(k, e.span)});")
                        cur = t
                    return cur
            if (root,) + keys in self.paths:
                return self.paths[(root,) + keys]
        code: str = getattr(self, _method_name("_", type(e).__name__))(e)  # _Literal, _Binary ... for e's type
        return code

    def _assign(self, code: str, at: int | None = None) -> str:
        t = self.new()
        self.out.emit(f"{t} = {code};", at)
        return t

    def _helper(self, name: str, args: list[str], span: Span) -> str:
        self.use(name)
        return self._assign(f"{name}({', '.join(args)})", self.at(span))

    def _Literal(self, e: ast.Literal) -> str:
        return js_lit(e.value, e.span)

    def _Name(self, e: ast.Name) -> str:  # pragma: no cover - the checker rejects unknown names
        return "undefined"

    def _Field(self, e: ast.Field) -> str:
        obj = self.expr(e.obj)
        self.use("__sm_index")
        return self._assign(f"__sm_index({obj}, {js_lit(e.name)})")

    def _Index(self, e: ast.Index) -> str:
        obj = self.expr(e.obj)
        idx = self.expr(e.index)
        self.use("__sm_index")
        return self._assign(f"__sm_index({obj}, {idx})")

    def _Unary(self, e: ast.Unary) -> str:
        from segmap.compiler.functions import UNARY_OPERATORS

        v = self.expr(e.operand)
        if e.op == "not":
            return self._assign(f"!{self._truth(v)}", self.at(e.span))
        return self._helper(UNARY_OPERATORS[e.op].js, [v], e.span)

    def _truth(self, v: str) -> str:
        """``__sm_truth(v)``; the caller stores the location (it differs per construct, as in pygen)."""
        from segmap.compiler.functions import INTERNAL

        name = INTERNAL["truth"].js
        self.use(name)
        return f"{name}({v})"

    def _Binary(self, e: ast.Binary) -> str:
        from segmap.compiler.functions import OPERATORS

        op = e.op
        o = self.out
        if op == "??":
            left = self.expr(e.left)
            t = self._assign(left)
            o.open(f"if ({t} === undefined || {t} === null)")
            right = self.expr(e.right)
            o.emit(f"{t} = {right};")
            o.close()
            return t
        if op in ("and", "or"):
            t = self.new()
            left = self.expr(e.left)
            o.emit(f"{t} = {self._truth(left)};", self.at(e.left.span))
            o.open(f"if ({'' if op == 'and' else '!'}{t})")
            right = self.expr(e.right)
            o.emit(f"{t} = {self._truth(right)};", self.at(e.right.span))
            o.close()
            return t
        left = self.expr(e.left)
        right = self.expr(e.right)
        if op in ("==", "!="):
            shortcut = literal_operand(e)
            if shortcut is not None:
                side, kind = shortcut
                a, lit = (left, e.right) if side == 0 else (right, e.left)
                if kind == "string":
                    assert isinstance(lit, ast.Literal)
                    return self._assign(f"({a} {'===' if op == '==' else '!=='} {js_lit(lit.value)})")
                if op == "==":
                    return self._assign(f"({a} === null || {a} === undefined)")
                return self._assign(f"({a} !== null && {a} !== undefined)")
            name = OPERATORS["=="].js
            self.use(name)
            return self._assign(f"{'' if op == '==' else '!'}{name}({left}, {right})")
        return self._helper(OPERATORS[op].js, [left, right], e.span)

    def _Cond(self, e: ast.Cond) -> str:
        o = self.out
        t = self.new()
        test = self.expr(e.test)
        o.open(f"if ({self._truth(test)})", self.at(e.test.span))
        then = self.expr(e.then)
        o.emit(f"{t} = {then};")
        o.close("} else {")
        o.indent += 1
        orelse = self.expr(e.orelse)
        o.emit(f"{t} = {orelse};")
        o.close()
        return t

    def _Template(self, e: ast.Template) -> str:
        from segmap.compiler.functions import INTERNAL

        parts = []
        for p in e.parts:
            if isinstance(p, str):
                parts.append(js_lit(p))
            else:
                v = self.expr(p)
                parts.append(self._helper(INTERNAL["template_part"].js, [v], p.span))
        return self._assign(" + ".join(parts))

    def _ObjectLit(self, e: ast.ObjectLit) -> str:
        values = [(entry, self.expr(entry.value)) for entry in e.entries]
        t = self._assign("{" + ", ".join(f"{js_key(entry.key)}: {v}" for entry, v in values) + "}")
        for entry, v in values:
            if not isinstance(entry.value, _NEVER_UNDEFINED):
                self.out.emit(f"if ({v} === undefined) delete {t}[{js_lit(entry.key)}];")
        return t

    def _ListLit(self, e: ast.ListLit) -> str:
        items = []
        for item in e.items:
            v = self.expr(item)
            items.append(v if isinstance(item, ast.Literal) else f"({v} === undefined ? null : {v})")
        return self._assign("[" + ", ".join(items) + "]")

    def _Lambda(self, e: ast.Lambda) -> str:  # pragma: no cover - rejected by the checker
        raise JsExportError("`x => ...` outside map()", e.span)

    def _Call(self, e: ast.Call) -> str:
        from segmap.compiler.functions import FUNCTIONS, js_runtime_blocks

        if e.func == "map":
            return self._map(e)
        if e.func == "filter":
            return self._filter(e)
        spec = FUNCTIONS.get(e.func)
        if spec is None or spec.js not in js_runtime_blocks():
            raise JsExportError(f"function `{e.func}` has no JavaScript implementation", e.name_span)
        args = [self.expr(a) for a in e.args]
        return self._helper(spec.js, args, e.span)

    def _filter(self, e: ast.Call) -> str:
        """``filter(list, x => cond)``: a loop keeping the items whose condition is true."""
        seq_expr, lam = e.args
        assert isinstance(lam, ast.Lambda)  # the checker accepts only a lambda here
        o = self.out
        seq = self.expr(seq_expr)
        t = self._assign(seq)
        acc, i, item = self.new(), self.new("i"), self.new("l")
        o.open(f"if (Array.isArray({t}))")
        o.emit(f"{acc} = [];")
        o.open(f"for ({i} = 0; {i} < {t}.length; {i}++)")
        o.emit(f"{item} = {t}[{i}];")
        self.lambda_vars.append({lam.param: item})
        cond = self.expr(lam.body)
        self.lambda_vars.pop()
        o.emit(f"if ({self._truth(cond)}) {acc}.push({item});", self.at(lam.body.span))
        o.close()
        o.emit(f"{t} = {acc};")
        o.close(f"}} else if ({t} !== undefined && {t} !== null) {{")
        o.indent += 1
        self.use("__sm_fail", "__sm_type")
        o.emit(f'__sm_fail("filter() needs a list, got " + __sm_type({t}));', self.at(seq_expr.span))
        o.close()
        return t

    def _map(self, e: ast.Call) -> str:
        seq_expr, lam = e.args
        assert isinstance(lam, ast.Lambda)  # the checker accepts only a lambda here
        o = self.out
        seq = self.expr(seq_expr)
        t = self._assign(seq)
        acc, i, item = self.new(), self.new("i"), self.new("l")
        o.open(f"if (Array.isArray({t}))")
        o.emit(f"{acc} = [];")
        o.open(f"for ({i} = 0; {i} < {t}.length; {i}++)")
        o.emit(f"{item} = {t}[{i}];")
        self.lambda_vars.append({lam.param: item})
        body = self.expr(lam.body)
        self.lambda_vars.pop()
        o.emit(f"{acc}.push({body} === undefined ? null : {body});")
        o.close()
        o.emit(f"{t} = {acc};")
        o.close(f"}} else if ({t} !== undefined && {t} !== null) {{")
        o.indent += 1
        self.use("__sm_fail", "__sm_type")
        o.emit(f'__sm_fail("map() needs a list, got " + __sm_type({t}));', self.at(seq_expr.span))
        o.close()
        return t

    # --- calls ------------------------------------------------------------------
    def generate(self) -> list[str]:
        self._collect_paths()
        self._emit_paths()
        for pc in self.calls:
            self._call(pc)
        head = [f"  function {self.fn_name}(env) {{", "    var calls = [];"]
        if self.vars:
            head.append("    var " + ", ".join(self.vars) + ";")
        return head + self.out.lines + ["    return calls;", "  }"]

    def _call(self, pc: PlannedCall) -> None:
        o = self.out
        spec = pc.spec
        when = spec.when
        if when is not None:
            w = self.expr(when)
            o.open(f"if ({self._truth(w)})", self.at(when.span))
        values: list[tuple[PlannedField, str]] = []
        for f in pc.fields:
            v = self.expr(f.value)
            if f.name in OBJECT_FIELDS and not isinstance(f.value, ast.ObjectLit):
                self.use("__sm_fail", "__sm_type")
                o.open(f'if ({v} !== undefined && {v} !== null && (typeof {v} !== "object" || Array.isArray({v})))')
                o.emit(f"__sm_fail({js_lit(f.name + ' must be an object, got ')} + __sm_type({v}));",
                       self.at(f.value.span))
                o.close()
            values.append((f, v))
        body = self._assign("{" + ", ".join(f"{js_key(f.name)}: {v}" for f, v in values) + "}")
        for f, v in values:
            if not isinstance(f.value, _NEVER_UNDEFINED):
                o.emit(f"if ({v} === undefined) delete {body}[{js_lit(f.name)}];")
        self._requirements(pc, values)
        o.emit(f"calls.push([{js_lit(spec.kind)}, {body}]);")
        if when is not None:
            o.close()

    def _requirements(self, pc: PlannedCall, values: list[tuple[PlannedField, str]]) -> None:
        """Fail loudly rather than send Segment a call it will drop (as pygen does)."""
        value_of = {f.name: v for f, v in values}
        for check in pc.identity_checks():
            tests = [f"{value_of[f.name]} === undefined || {value_of[f.name]} === null" for f in check.present]
            cond = tests[0] if len(tests) == 1 else " && ".join(f"({t})" for t in tests)
            self.use("__sm_fail")
            self.out.open(f"if ({cond})")
            self.out.emit(f"__sm_fail({js_lit(check.message)});", self.at(check.span))
            self.out.close()


# --- the handler ------------------------------------------------------------------

_HEADER = """\
// Generated by segmap {version} (`segmap export js`). Do not edit: change the
// mapping file and export again. A Svix transformation for Dodo Payments
// webhooks: mapped events become Segment HTTP API calls (one call: its own
// endpoint; several: /v1/batch); every other event is cancelled, not forwarded.
// A mapping failure throws an Error whose message starts with file:line:col."""

_DISPATCH = r"""  // What Python's JSON parser refuses is refused here too, before anything else; a body
  // Python cannot write as UTF-8 is refused after (docs/export-js.md, "Numbers and strings").
  function scan(v, lone_message) {
    var todo = [v], lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;
    while (todo.length > 0) {
      v = todo.pop();
      if (typeof v === "string") {
        if (lone.test(v)) return lone_message;
      } else if (typeof v === "number") {
        if (!isFinite(v)) return OUT_OF_RANGE;
      } else if (v !== null && typeof v === "object") {
        var ks = Object.keys(v);
        for (var k = 0; k < ks.length; k++) {
          if (lone.test(ks[k])) return lone_message;
          todo.push(v[ks[k]]);
        }
      }
    }
    return null;
  }
  function refuse(message) {
    var refused = new Error(FILE + ": " + message);
    refused.name = "MappingRuntimeError";
    refused.location = FILE;
    throw refused;
  }
  var env = webhook.payload, calls, bad = scan(env, LONE_SURROGATE);
  if (bad !== null) refuse(bad);
  var fn = Object.prototype.hasOwnProperty.call(EVENTS, webhook.eventType) ? EVENTS[webhook.eventType] : undefined;
  if (fn === undefined) {
    webhook.cancel = true;
    return webhook;
  }
  try {
    if (env === null || typeof env !== "object" || Array.isArray(env)) {
      __sm_fail("an envelope must be a JSON object, got " + __sm_type(env));
    }
    calls = fn(env);
  } catch (err) {
    var mapping = err !== null && typeof err === "object" && err.name === "MappingRuntimeError";
    var where = L === 0 ? FILE : FILE + ":" + LOCS[L];
    var located = new Error(where + ": " + (mapping ? err.message : "internal error in generated code: " + String(err)));
    located.name = "MappingRuntimeError";
    located.location = where;
    throw located;
  }
  if (calls.length === 0) {
    webhook.cancel = true;
    return webhook;
  }
  bad = scan(calls, LONE_SURROGATE_OUT);
  if (bad !== null) refuse(bad);
  webhook.method = "POST";
  if (calls.length === 1) {
    webhook.url = HOST + calls[0][0];
    webhook.payload = calls[0][1];
    return webhook;
  }
  var batch = [];
  for (var i = 0; i < calls.length; i++) {
    var item = {type: calls[i][0]}, body = calls[i][1], keys = Object.keys(body);
    for (var j = 0; j < keys.length; j++) item[keys[j]] = body[keys[j]];
    batch.push(item);
  }
  webhook.url = HOST + "batch";
  webhook.payload = {batch: batch};
  return webhook;
}
"""


def compact(source: str, version: str) -> str:
    """The same script without comments and indentation, for big mappings.

    Safe on our output only: no string or regex literal spans lines, and
    user text never starts a line (it is always inside a string literal).
    """
    out = [ln.strip() for ln in source.split("\n")]
    head = (f"// Generated by segmap {version} (`segmap export js`), compacted to fit the code limit. "
            "Do not edit: change the mapping file and export again.")
    return "\n".join([head] + [ln for ln in out if ln and not ln.startswith("//")]) + "\n"


class _ModuleGen:
    def __init__(self, plan: Plan, file: str):
        self.plan = plan
        self.file = file
        self.helpers: set[str] = {"__sm_fail", "__sm_type"}
        self.locs: dict[str, int] = {file: 0}  # "file:line:col" -> index; 0 is the file itself

    def location(self, span: Span) -> int:
        if span.file != self.file:  # pragma: no cover - one mapping file, one source
            raise AssertionError(f"span from another file: {span}")
        return self.locs.setdefault(str(span), len(self.locs))

    def generate(self, host: str, version: str) -> tuple[str, list[str]]:
        from segmap.compiler.functions import js_runtime_source

        functions: list[str] = []
        dispatch: list[tuple[str, str]] = []
        # Events whose plans generate the same code share one function: all the events of a
        # glob rule (whether it reads `type` or not: `type` is read from the envelope at run time).
        by_text: dict[str, str] = {}
        for event, calls in self.plan.calls.items():
            lines = _FunctionGen(_NAME_SLOT, calls, self).generate()
            text = "\n".join(lines)
            name = by_text.get(text)
            if name is None:
                name = by_text[text] = f"e{len(by_text)}"
                functions.append(lines[0].replace(_NAME_SLOT, name, 1))  # the head line only: never user text
                functions.extend(lines[1:])
            dispatch.append((event, name))
        runtime = js_runtime_source(sorted(self.helpers))
        locs = list(self.locs)
        lines = [_HEADER.format(version=version), "function handler(webhook) {", '  "use strict";']
        lines += ["  " + ln if ln else "" for ln in runtime.rstrip("\n").split("\n")]
        lines.append("  var HOST = " + js_string(host) + ";")
        # Positions without the file name, which can be long and would repeat.
        lines.append("  var FILE = " + js_string(self.file) + ";")
        lines.append("  var LOCS = [" + ", ".join(js_string(x[len(self.file) + 1:]) for x in locs) + "];")
        lines.append("  var L = 0;")
        lines.append("  var LONE_SURROGATE = " + js_string(_jsjson.LONE_SURROGATE) + ";")
        lines.append("  var OUT_OF_RANGE = " + js_string(_jsjson.NUMBER_OUT_OF_RANGE) + ";")
        lines.append("  var LONE_SURROGATE_OUT = " + js_string(_jsjson.LONE_SURROGATE_OUT) + ";")
        lines += functions
        lines.append("  var EVENTS = {")
        lines += [f"    {js_key(ev)}: {fn}," for ev, fn in dispatch]
        lines.append("  };")
        return "\n".join(lines) + "\n" + _DISPATCH, locs


@dataclass
class ExportedHandler:
    """The exported script and what it needs: ``source`` is the whole file."""

    source: str
    host: str
    event_types: tuple[str, ...]
    helpers: tuple[str, ...]  # runtime declarations included, dependencies resolved
    locations: list[str]  # index -> file:line:col, as thrown at run time
    diagnostics: list[Diagnostic] = field(default_factory=list)  # the checker's warnings


def generate(plan: Plan, file: str, *, host: str = REGION_HOSTS["us"], version: str | None = None) -> ExportedHandler:
    """JS handler source for a checked plan; raises JsExportError when it cannot be exported."""
    from segmap._version import __version__
    from segmap.compiler.functions import js_dependencies

    version = version or __version__
    gen = _ModuleGen(plan, file)
    source, locs = gen.generate(host, version)
    if not source.isascii():  # pragma: no cover - every literal goes through js_string
        raise AssertionError("generated JS is not pure ASCII")
    if len(source) > MAX_CODE_CHARS:
        readable = len(source)
        source = compact(source, version)
        if len(source) > MAX_CODE_CHARS:
            raise JsExportError(
                f"the exported handler has {len(source):,} characters even without comments and indentation "
                f"({readable:,} with them); the dashboard accepts at most {MAX_CODE_CHARS:,}: split the mapping "
                "into several files, one endpoint each, with fewer events or fields")
    return ExportedHandler(source, host, tuple(plan.calls), tuple(js_dependencies(gen.helpers)), locs)


def export_source(text: str, filename: str = "<mapping>", *, host: str = REGION_HOSTS["us"]) -> ExportedHandler:
    """Check a mapping text and export it; MappingError if it has errors, JsExportError if it cannot be exported."""
    from segmap.compiler.api import check_source

    result = check_source(text, filename)
    exported = generate(result.checked_plan(), filename, host=host)
    exported.diagnostics = list(result.diagnostics)
    return exported


def export_file(path: str | PathLike[str], *, host: str = REGION_HOSTS["us"]) -> ExportedHandler:
    from segmap.compiler.api import read_mapping_text

    text, name = read_mapping_text(path)
    return export_source(text, name, host=host)
