"""The plan: what the checker hands every consumer (the one intermediate representation).

For each Dodo event type a mapping handles, the Segment calls to make, each
with its fields in output order (the call's own fields, then the defaults
that apply to its call type) and, for every field, the type the checker
inferred for that event type: its kind and whether it can be JSON null or
absent. The Python and JavaScript generators, the tracking plan, preview
and JS export all read this and nothing else of the checker, so no type is
inferred twice.
"""
from __future__ import annotations

from segmap.compiler.types import Ty, constant_strings
from segmap.compiler.wording import path_text
from segmap.diagnostics.model import Span
from segmap.dsl import ast
from segmap.dsl.segment_fields import REQUIRED_FIELDS
from segmap.record import MutableRecord, Record

_set = object.__setattr__


class PlannedField(Record):
    """One Segment field of a planned call, with what its value can be for the call's event type."""

    __slots__ = ("spec", "ty")
    spec: ast.FieldSpec
    ty: Ty

    def __init__(self, spec: ast.FieldSpec, ty: Ty) -> None:
        _set(self, "spec", spec)
        _set(self, "ty", ty)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def value(self) -> ast.Expr:
        return self.spec.value

    @property
    def span(self) -> Span:
        return self.spec.span

    @property
    def from_defaults(self) -> bool:
        return self.spec.from_defaults


class IdentityCheck(Record):
    """A required field (or set of alternatives) whose presence only the envelope decides.

    The checker has already reported a call that cannot have it at all
    (``REQUIRED_FIELDS``); the generated code makes the envelope fail with
    ``message`` when every alternative the call sets is null or absent,
    rather than send Segment a call it would drop.
    """

    __slots__ = ("alternatives", "present", "message")
    alternatives: tuple[str, ...]
    present: tuple[PlannedField, ...]  # the alternatives the call sets, in REQUIRED_FIELDS order
    message: str

    def __init__(self, alternatives: tuple[str, ...], present: tuple[PlannedField, ...], message: str) -> None:
        _set(self, "alternatives", alternatives)
        _set(self, "present", present)
        _set(self, "message", message)

    @property
    def span(self) -> Span:
        return self.present[0].value.span


class PlannedCall(Record):
    """One Segment call made for one Dodo event type."""

    __slots__ = ("event", "spec", "fields", "reachable")
    event: str  # the Dodo event type the call is made for
    spec: ast.CallSpec
    fields: tuple[PlannedField, ...]  # in output order: checker.Checker.merged_fields
    # False when the `when:` guard is false for every envelope of this event type
    # (`when: type == "subscription.renewed"` in a `subscription.*` rule, for the other events)
    reachable: bool

    def __init__(self, event: str, spec: ast.CallSpec, fields: tuple[PlannedField, ...], reachable: bool = True) -> None:
        _set(self, "event", event)
        _set(self, "spec", spec)
        _set(self, "fields", fields)
        _set(self, "reachable", reachable)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def guarded(self) -> bool:
        return self.spec.when is not None

    def field(self, name: str) -> PlannedField | None:
        return next((f for f in self.fields if f.name == name), None)

    def names(self) -> tuple[str, ...] | None:
        """The possible event (track) or page/screen names; None when not known statically.

        ``track: Order Completed`` gives one; an expression gives the constants
        it can evaluate to (``if ... then "A" else "B"``), or None.
        """
        named = self.field("event" if self.kind == "track" else "name")
        if named is None:
            return () if self.kind != "track" else None
        return constant_strings(named.ty)

    def identity_checks(self) -> tuple[IdentityCheck, ...]:
        """The required identities to test at run time (a non-null literal needs no test)."""
        by_name = {f.name: f for f in self.fields}
        out = []
        for alternatives in REQUIRED_FIELDS[self.kind]:
            present = tuple(by_name[n] for n in alternatives if n in by_name)
            if not present or all(isinstance(f.value, ast.Literal) and f.value.value is not None for f in present):
                continue
            sources = ", ".join(path_text(f.value) or "the expression" for f in present)
            message = f"{self.kind} call has no {' or '.join(alternatives)}: {sources} was null or absent"
            out.append(IdentityCheck(alternatives, present, message))
        return tuple(out)


class Plan(MutableRecord):
    """event type -> calls; ``rule_of`` says which rule each event came from."""

    _fields = ("calls", "rule_of")  # a __dict__, as a dataclass has (weak references, extra attributes)
    calls: dict[str, tuple[PlannedCall, ...]]
    rule_of: dict[str, ast.EventRule]

    def __init__(self, calls: dict[str, tuple[PlannedCall, ...]] | None = None,
                 rule_of: dict[str, ast.EventRule] | None = None) -> None:
        self.calls = {} if calls is None else calls
        self.rule_of = {} if rule_of is None else rule_of

    def shares_function(self, event: str) -> bool:
        """Whether ``event`` can run the code generated for the first event of its rule.

        The events of a glob rule share one generated function unless the
        rule reads the envelope's ``type``, the one input that differs
        between them by construction. Both generators ask this.
        """
        for pc in self.calls[event]:
            exprs = [f.value for f in pc.fields] + ([pc.spec.when] if pc.spec.when is not None else [])
            for e in exprs:
                if any(isinstance(n, ast.Name) and n.name == "type" for n in ast.walk(e)):
                    return False
        return True
