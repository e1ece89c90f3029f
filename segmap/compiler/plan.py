"""The plan: what the checker hands every consumer (the one intermediate representation).

For each Dodo event type a mapping handles, the Segment calls to make, each
with its fields in output order (the call's own fields, then the defaults
that apply to its call type). The Python and JavaScript generators, the
tracking plan, preview and JS export all read this and nothing else of the
checker.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from segmap.dsl import ast


@dataclass(frozen=True, slots=True)
class PlannedCall:
    spec: ast.CallSpec
    fields: tuple[ast.FieldSpec, ...]  # call fields then defaults, in output order


@dataclass
class Plan:
    """event type -> calls; ``rule_of`` says which rule each event came from."""

    calls: dict[str, tuple[PlannedCall, ...]] = field(default_factory=dict)
    rule_of: dict[str, ast.EventRule] = field(default_factory=dict)
