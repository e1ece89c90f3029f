"""Mapping tests: the ``tests:`` section of a mapping file, parsed and run.

Format (documented with examples in docs/authoring.md)::

    tests:
      - name: order completed in yen            # required, unique
        event: payment.succeeded                # a sample envelope (`segmap sample`) ...
        variant: 1                              #   ... optional, default 0
        # input: {business_id: ..., type: ..., timestamp: ..., data: {...}}   # ... or a whole envelope
        # input_file: fixtures/payment.json                                   # ... or one from a JSON file
        set:                                    # optional: dotted-path overrides
          data.currency: JPY
          data.total_amount: 1500
          data.product_cart[0].quantity: 3
        unset: [data.tax]                       # optional: remove keys (absent, not null)
        expect:                                 # the calls, written like the mapping's calls
          - track: Order Completed
            properties: {revenue: 15, currency: JPY}
        match: partial                          # partial (default) or full
        expect_calls: 2                         # optional: exactly this many calls
        # expect_error: "no userId"             # instead: the mapping must fail with this text

Values are YAML data, not expressions: ``revenue: 15`` is a number and
``currency: JPY`` is text (YAML 1.2 core schema; quote to force text).
``set`` applies in order, then ``unset``. ``expect: []`` means "no calls".

Matching: ``full`` -- the calls made are exactly the expected ones, in
order, with equal bodies. ``partial`` -- each expected call is found, in
order, among the calls made (same call type and name), and each expected
object is a subset of the actual one, recursively (lists keep their length).
"""
from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segmap.authoring import paths as P
from segmap.authoring.values import NotJson, align_like, compare, first_not_json, pretty, prune_like, show, to_json
from segmap.diagnostics.model import Diagnostic, Severity, Span
from segmap.dsl.segment_fields import CALL_FIELDS, CALL_TYPES, NAME_FIELD, RESERVED_FIELDS
from segmap.dsl.yaml_source import YMap, YNode, YScalar, YSeq

CASE_KEYS = ("name", "event", "variant", "input", "input_file", "set", "unset", "expect", "expect_calls",
             "expect_error", "match")
MATCH_MODES = ("partial", "full")

# Diagnostic codes of the tests section (E6xx: mapping tests).
TEST_CODES = {
    "E601": "malformed tests section (shape, keys, values)",
    "E602": "unknown Dodo event type in a test",
    "E603": "a test's set/unset path does not exist on the event",
    "E604": "a malformed expected call",
}


@dataclass(frozen=True)
class Override:
    path: tuple  # parsed segments
    text: str  # as written
    value: Any = None
    span: Span | None = None


@dataclass(frozen=True)
class ExpectedCall:
    kind: str
    body: dict
    span: Span

    @property
    def name(self) -> str | None:
        f = NAME_FIELD.get(self.kind)
        return self.body.get(f) if f else None

    def label(self) -> str:
        return f'{self.kind} "{self.name}"' if self.name is not None else self.kind


@dataclass
class TestCase:
    name: str
    span: Span
    event: str | None = None
    variant: int = 0
    input: dict | None = None
    sets: list[Override] = field(default_factory=list)
    unsets: list[Override] = field(default_factory=list)
    expect: list[ExpectedCall] | None = None
    expect_calls: int | None = None
    expect_error: str | None = None
    match: str = "partial"
    valid: bool = True

    __test__ = False  # not a pytest test class

    @property
    def event_type(self) -> str | None:
        if self.event is not None:
            return self.event
        if isinstance(self.input, dict) and isinstance(self.input.get("type"), str):
            return self.input["type"]
        return None


# --- parsing -------------------------------------------------------------------------


class _Parser:
    def __init__(self, file: str, base_dir: Path):
        self.file = file
        self.base_dir = base_dir
        self.diags: list[Diagnostic] = []
        self.case_ok = True

    def err(self, code: str, message: str, span: Span, **kw) -> None:
        self.case_ok = False
        self.diags.append(Diagnostic(code, Severity.ERROR, message, span, **kw))

    def json_of(self, node: YNode, what: str) -> tuple[bool, Any]:
        bad = first_not_json(node)
        if bad is not None:
            self.err("E601", f"`{bad.value}` in {what} is not a JSON value", bad.span,
                     hint='quote it to mean the text: "' + bad.value + '"')
            return False, None
        return True, to_json(node)

    def scalar(self, node: YNode, what: str) -> YScalar | None:
        if not isinstance(node, YScalar):
            self.err("E601", f"{what} must be a single value, found {_kind(node)}", node.span)
            return None
        return node

    def int_value(self, node: YNode, what: str) -> int | None:
        s = self.scalar(node, what)
        if s is None:
            return None
        try:
            v = to_json(s)
        except NotJson:
            v = None
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            self.err("E601", f"{what} must be a whole number >= 0, found `{s.value}`", s.span)
            return None
        return v

    def cases(self, node: YNode | None) -> list[TestCase]:
        if node is None or (isinstance(node, YScalar) and node.value == "" and node.style is None):
            return []
        if not isinstance(node, YSeq):
            self.err("E601", f"`tests:` must be a list of test cases, found {_kind(node)}", node.span,
                     hint="start each case with `- name: ...`")
            return []
        out: list[TestCase] = []
        seen: dict[str, Span] = {}
        for item in node.items:
            case = self.case(item)
            if case is None:
                continue
            if case.name in seen:
                self.err("E601", f"two tests are named `{case.name}`", case.span,
                         notes=(f"first named at line {seen[case.name].line}",))
                case.valid = False
            else:
                seen[case.name] = case.span
            out.append(case)
        return out

    def case(self, node: YNode) -> TestCase | None:
        self.case_ok = True
        if not isinstance(node, YMap):
            self.err("E601", f"a test case must be a mapping with `name:`, `event:` and `expect:`, found {_kind(node)}",
                     node.span)
            return None
        for k, _ in node.items:
            if k.value not in CASE_KEYS:
                self.err("E601", f"unknown test key `{k.value}`", k.span, suggestion=_suggest(k.value, CASE_KEYS),
                         notes=("test keys: " + ", ".join(CASE_KEYS),))
        name_node = node.get("name")
        name = None
        if name_node is None:
            self.err("E601", "a test case needs a `name:`", node.span)
        else:
            s = self.scalar(name_node, "`name:`")
            if s is not None:
                if not s.value.strip():
                    self.err("E601", "a test name cannot be empty", s.span)
                else:
                    name = s.value
        span = name_node.span if name_node is not None else node.span
        case = TestCase(name or f"<test at line {node.span.line}>", span)

        sources = [k for k in ("event", "input", "input_file") if node.get(k) is not None]
        if not sources:
            self.err("E601", "a test case needs `event:` (a sample envelope) or `input:` (a whole envelope)", span)
        elif len(sources) > 1:
            key = next(k for k, _ in node.items if k.value == sources[1])
            self.err("E601", f"give one of `event:`, `input:`, `input_file:`; found {' and '.join(sources)}", key.span)
        if (event_node := node.get("event")) is not None:
            self.event_key(event_node, case)
        if (variant_node := node.get("variant")) is not None:
            v = self.int_value(variant_node, "`variant:`")
            if v is not None:
                case.variant = v
            if node.get("event") is None:
                self.err("E601", "`variant:` picks a sample, so it needs `event:`", variant_node.span)
        if (inp := node.get("input")) is not None:
            if not isinstance(inp, YMap):
                self.err("E601", f"`input:` must be an envelope mapping (business_id, type, timestamp, data), found {_kind(inp)}",
                         inp.span)
            else:
                ok, value = self.json_of(inp, "`input:`")
                if ok:
                    self.envelope_value(value, inp.span, case)
        if (file_node := node.get("input_file")) is not None:
            self.input_file(file_node, case)

        if (set_node := node.get("set")) is not None:
            self.sets(set_node, case)
        if (unset_node := node.get("unset")) is not None:
            self.unsets(unset_node, case)

        if (match_node := node.get("match")) is not None:
            s = self.scalar(match_node, "`match:`")
            if s is not None:
                if s.value not in MATCH_MODES:
                    self.err("E601", f"`match:` is `partial` or `full`, found `{s.value}`", s.span,
                             suggestion=_suggest(s.value, MATCH_MODES))
                else:
                    case.match = s.value
        if (expect_node := node.get("expect")) is not None:
            case.expect = self.expect(expect_node)
        if (calls_node := node.get("expect_calls")) is not None:
            case.expect_calls = self.int_value(calls_node, "`expect_calls:`")
        if (error_node := node.get("expect_error")) is not None:
            s = self.scalar(error_node, "`expect_error:`")
            if s is not None:
                if not s.value:
                    self.err("E601", "`expect_error:` needs some text of the expected error message", s.span)
                else:
                    case.expect_error = s.value
            others = [k for k in ("expect", "expect_calls") if node.get(k) is not None]
            if others:
                self.err("E601", f"`expect_error:` cannot be combined with {' or '.join('`' + o + ':`' for o in others)}",
                         error_node.span, hint="a failing envelope makes no calls")
        if all(node.get(k) is None for k in ("expect", "expect_calls", "expect_error")):
            self.err("E601", f"test `{case.name}` checks nothing: add `expect:`, `expect_calls:` or `expect_error:`", span)
        case.valid = self.case_ok
        return case

    def event_key(self, node: YNode, case: TestCase) -> None:
        from segmap.compiler.types import event_types

        s = self.scalar(node, "`event:`")
        if s is None:
            return
        if s.value not in event_types():
            self.err("E602", f"unknown Dodo event type `{s.value}`", s.span, suggestion=_suggest(s.value, event_types()),
                     hint="`segmap sample --list` lists every event type")
            return
        case.event = s.value

    def envelope_value(self, value: Any, span: Span, case: TestCase) -> None:
        if not isinstance(value, dict):
            self.err("E601", "an input envelope must be a JSON object", span)
            return
        if not isinstance(value.get("type"), str):
            self.err("E601", "the input envelope has no `type` (the Dodo event type)", span)
            return
        case.input = value

    def input_file(self, node: YNode, case: TestCase) -> None:
        s = self.scalar(node, "`input_file:`")
        if s is None:
            return
        path = self.base_dir / s.value
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            self.err("E601", f"cannot read `{s.value}`: {exc.strerror or exc}", s.span,
                     notes=(f"paths are relative to the mapping file's folder: {self.base_dir}",))
            return
        except ValueError as exc:
            self.err("E601", f"`{s.value}` is not JSON: {exc}", s.span)
            return
        self.envelope_value(value, s.span, case)

    def path(self, key: YScalar, case: TestCase) -> tuple | None:
        try:
            segs = P.parse_path(key.value)
        except P.PathError as exc:
            self.err("E603", f"bad path `{key.value}`: {exc}", key.span,
                     hint="write paths like data.customer.email or data.product_cart[0].quantity")
            return None
        from segmap.compiler.types import ENVELOPE_ROOTS, event_types

        if segs[0] not in ENVELOPE_ROOTS:
            self.err("E603", f"`{segs[0]}` is not an envelope field", key.span, suggestion=_suggest(str(segs[0]), ENVELOPE_ROOTS),
                     notes=("envelope fields: " + ", ".join(ENVELOPE_ROOTS),))
            return None
        et = case.event_type
        if et is not None and et in event_types():
            problem = P.check_path(et, segs)
            if problem is not None:
                msg, sug = problem
                self.err("E603", f"`{key.value}` does not exist on {et}: {msg}", key.span, suggestion=sug)
                return None
        return segs

    def sets(self, node: YNode, case: TestCase) -> None:
        if not isinstance(node, YMap):
            self.err("E601", f"`set:` must map paths to values (data.total_amount: 500), found {_kind(node)}", node.span)
            return
        for key, val in node.items:
            segs = self.path(key, case)
            ok, value = self.json_of(val, f"`set: {key.value}`")
            if segs is not None and ok:
                case.sets.append(Override(segs, key.value, value, key.span))

    def unsets(self, node: YNode, case: TestCase) -> None:
        items = node.items if isinstance(node, YSeq) else (node,) if isinstance(node, YScalar) else None
        if items is None:
            self.err("E601", "`unset:` is a list of paths, such as [data.tax, data.discounts]", node.span)
            return
        for item in items:
            s = self.scalar(item, "an `unset:` path")
            if s is None:
                continue
            segs = self.path(s, case)
            if segs is not None:
                case.unsets.append(Override(segs, s.value, None, s.span))

    def expect(self, node: YNode) -> list[ExpectedCall] | None:
        if isinstance(node, YScalar) and node.value == "" and node.style is None:
            self.err("E604", "`expect:` is empty; write `expect: []` for \"no calls\"", node.span)
            return None
        if not isinstance(node, YSeq):
            self.err("E604", f"`expect:` must be a list of calls, found {_kind(node)}", node.span,
                     hint="start each call with `- track: ...` or `- identify:`")
            return None
        out = []
        for item in node.items:
            call = self.expected_call(item)
            if call is not None:
                out.append(call)
        return out

    def expected_call(self, node: YNode) -> ExpectedCall | None:
        if not isinstance(node, YMap):
            self.err("E604", f"an expected call must be a mapping such as `track: Order Completed`, found {_kind(node)}",
                     node.span)
            return None
        kinds = [(k, v) for k, v in node.items if k.value in CALL_TYPES]
        if len(kinds) != 1:
            first = node.items[0][0] if node.items else None
            if not kinds:
                self.err("E604", "an expected call needs exactly one of track, identify, group, page, screen, alias",
                         first.span if first else node.span,
                         suggestion=_suggest(first.value, CALL_TYPES) if first else None)
            else:
                self.err("E604", f"an expected call has one call key, found {', '.join(k.value for k, _ in kinds)}",
                         kinds[1][0].span, hint="make each call its own list item")
            return None
        key, head = kinds[0]
        kind = key.value
        items = [(k, v) for k, v in node.items if k is not key]
        body: dict = {}
        if isinstance(head, YMap):
            items = list(head.items) + items
        elif isinstance(head, YScalar):
            if head.value != "" or head.style is not None:
                if kind not in NAME_FIELD:
                    self.err("E604", f"`{kind}:` takes no name; put its fields below it", head.span)
                    return None
                body[NAME_FIELD[kind]] = head.value
        else:
            self.err("E604", f"`{kind}:` takes a name or a mapping of fields, found a list", head.span)
            return None
        ok = True
        for k, v in items:
            name = k.value
            if name in RESERVED_FIELDS:
                self.err("E604", f"`{name}` is not made by the mapping (segmap or Segment sets it at delivery)", k.span)
                ok = False
                continue
            if name not in CALL_FIELDS[kind]:
                self.err("E604", f"`{name}` is not a field of {kind} calls", k.span,
                         suggestion=_suggest(name, CALL_FIELDS[kind]),
                         notes=(f"{kind} fields: " + ", ".join(CALL_FIELDS[kind]),))
                ok = False
                continue
            if name in body:
                self.err("E604", f"`{name}` is given twice", k.span)
                ok = False
                continue
            good, value = self.json_of(v, f"`{name}`")
            if good:
                body[name] = value
            else:
                ok = False
        return ExpectedCall(kind, body, key.span) if ok else None


def _kind(node: YNode) -> str:
    return "a mapping" if isinstance(node, YMap) else "a list" if isinstance(node, YSeq) else "text"


def _suggest(word: str, options) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


def parse_tests(mapping) -> tuple[list[TestCase], list[Diagnostic]]:
    """The cases of a loaded mapping's ``tests:`` section, and located problems with it."""
    parser = _Parser(mapping.file, Path(mapping.file).parent)
    cases = parser.cases(mapping.tests)
    return cases, parser.diags


def check_tests(mapping) -> list[Diagnostic]:
    """Only the problems of the ``tests:`` section (for `segmap check`)."""
    return parse_tests(mapping)[1]


# --- running -------------------------------------------------------------------------


@dataclass
class CaseResult:
    case: TestCase
    passed: bool
    problems: list[str] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)
    error: Any = None  # MappingRuntimeError
    calls: list = field(default_factory=list)


def build_envelope(case: TestCase) -> dict:
    """The envelope a case runs on (raises PathError for an override that does not fit)."""
    from segmap.samples import sample_envelope

    env: Any  # a sample, or the case's own input (None when it has neither: the mapping then says so)
    if case.event is not None:
        env = sample_envelope(case.event, variant=case.variant)
    else:
        env = copy.deepcopy(case.input)
    for o in case.sets:
        try:
            P.set_path(env, o.path, o.value)
        except P.PathError as exc:
            raise P.PathError(f"set {o.text}: {exc}") from None
    for o in case.unsets:
        P.unset_path(env, o.path)
    return env


def _call_json(kind: str, body: dict) -> dict:
    return {"call": kind, **body}


def _label(call) -> str:
    f = NAME_FIELD.get(call.call)
    name = call.body.get(f) if f else None
    return f'{call.call} "{name}"' if isinstance(name, str) else call.call


def run_case(compiled, case: TestCase) -> CaseResult:
    from segmap.runtime.values import MappingRuntimeError

    res = CaseResult(case, False)
    try:
        env = build_envelope(case)
    except P.PathError as exc:
        res.problems.append(str(exc))
        return res
    try:
        calls = compiled.apply(env)
    except MappingRuntimeError as exc:
        res.error = exc
        if case.expect_error is not None:
            if case.expect_error.lower() in exc.message.lower():
                res.passed = True
            else:
                res.problems.append(f"expected an error containing {show(case.expect_error)}, "
                                    f"got: {exc.message} (at {exc.location})")
        else:
            res.problems.append(f"the mapping failed at {exc.location or compiled.file}: {exc.message}")
        return res
    calls = [type(c)(c.call, json.loads(json.dumps(c.body)), c.origin) for c in calls]  # as sent: JSON
    res.calls = calls
    if case.expect_error is not None:
        res.problems.append(f"expected an error containing {show(case.expect_error)}, but the mapping made "
                            f"{len(calls)} call{'s' if len(calls) != 1 else ''}"
                            + (": " + ", ".join(_label(c) for c in calls) if calls else ""))
        return res
    want_count = case.expect_calls
    if case.expect is not None and not case.expect:
        want_count = 0  # `expect: []`
    if want_count is not None and len(calls) != want_count:
        res.problems.append(f"expected {want_count} call{'s' if want_count != 1 else ''}, got {len(calls)}"
                            + (": " + ", ".join(_label(c) for c in calls) if calls else ""))
    if case.expect:
        if case.match == "full":
            _match_full(case.expect, calls, res)
        else:
            _match_partial(case.expect, calls, res)
    res.passed = not res.problems
    return res


def _diff(expected: Any, actual: Any) -> list[str]:
    a = pretty(expected).splitlines()
    b = pretty(align_like(actual, expected)).splitlines()
    return list(difflib.unified_diff(a, b, "expected", "actual", lineterm="", n=3))


def _match_full(expect: list[ExpectedCall], calls, res: CaseResult) -> None:
    exp_json = [_call_json(e.kind, e.body) for e in expect]
    act_json = [_call_json(c.call, c.body) for c in calls]
    if len(expect) != len(calls):
        res.problems.append(f"expected {len(expect)} call{'s' if len(expect) != 1 else ''} "
                            f"({', '.join(e.label() for e in expect)}), got {len(calls)}"
                            + (f" ({', '.join(_label(c) for c in calls)})" if calls else ""))
    for i, (e, c) in enumerate(zip(expect, calls), start=1):
        if e.kind != c.call:
            res.problems.append(f"call {i}: expected {e.label()}, got {_label(c)}")
            continue
        for m in compare(e.body, c.body, partial=False):
            res.problems.append(f"call {i} ({e.label()}): {m.describe()}")
    if res.problems:
        res.diff = _diff(exp_json, act_json)


def _match_partial(expect: list[ExpectedCall], calls, res: CaseResult) -> None:
    pos = 0
    for i, e in enumerate(expect, start=1):
        candidates = [j for j in range(pos, len(calls))
                      if calls[j].call == e.kind and (e.name is None or _name_of(calls[j]) == e.name)]
        hit = next((j for j in candidates if not compare(e.body, calls[j].body, partial=True)), None)
        if hit is not None:
            pos = hit + 1
            continue
        if not candidates:
            made = ", ".join(_label(c) for c in calls[pos:]) or "none"
            res.problems.append(f"expected call {i}, {e.label()}, was not made"
                                + (" (after the earlier expected calls)" if pos else "") + f"; calls made: {made}")
            continue
        best = calls[candidates[0]]
        for m in compare(e.body, best.body, partial=True):
            res.problems.append(f"call {candidates[0] + 1} ({e.label()}): {m.describe()}")
        res.diff += _diff(_call_json(e.kind, e.body), _call_json(best.call, prune_like(best.body, e.body)))
        pos = candidates[0] + 1


def _name_of(call) -> Any:
    f = NAME_FIELD.get(call.call)
    return call.body.get(f) if f else None


def uncovered_events(mapped: list[str], cases: list[TestCase]) -> list[str]:
    covered = {c.event_type for c in cases}
    return [e for e in mapped if e not in covered]
