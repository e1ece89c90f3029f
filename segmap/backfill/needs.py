"""What a backfill must fetch so that the mapping sees the envelope the webhook carried.

A listed object carries less than the webhook did (a listed payment lacks about
20 of the webhook's fields). For every event type the mapping handles, this
module looks at the envelope paths the planned calls read and decides, before
anything is fetched: the listing is enough; or each object must be retrieved
(one GET per object, only when a read field is missing from the listing); or a
read field exists in no API answer at all, which is reported at the mapping's
file:line:col like `segmap check` reports problems (code E701).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from segmap.backfill.resources import Resource
from segmap.compiler.paths import envelope_reads
from segmap.compiler.snapshot import load_snapshot
from segmap.diagnostics.model import Diagnostic, Severity, Span

WHOLE = "*"  # the whole `data` object (or a computed key of it) is read


@dataclass(frozen=True)
class FieldRead:
    root: str  # an envelope root: data, timestamp, business_id, type
    key: str | None  # the first key under `data` (None for other roots), WHOLE for `data` itself
    span: Span


@dataclass
class EventNeeds:
    """How to build faithful envelopes of one event type."""

    event_type: str
    resource: Resource
    fetch_detail: bool = False
    keep: frozenset[str] = frozenset()  # webhook data fields to copy from the fetched object
    missing: list[FieldRead] = field(default_factory=list)  # read, but in no API answer
    business_id_from: str | None = None  # "flag" | "object" | None (not read)

    @property
    def source(self) -> str:
        return "retrieve" if self.fetch_detail else "list"


def reads(calls: Sequence[Any]) -> list[FieldRead]:
    """Every envelope read of the planned calls, with the span of the expression reading it."""
    found: list[FieldRead] = []
    for expr, root, keys in envelope_reads(calls):
        if root == "data":
            found.append(FieldRead(root, keys[0] if keys and isinstance(keys[0], str) else WHOLE, expr.span))
        else:
            found.append(FieldRead(root, None, expr.span))
    return found


def webhook_fields(event_type: str) -> frozenset[str]:
    snap = load_snapshot()
    return frozenset(snap["models"][snap["events"][event_type]["data"]]["fields"])


def sdk_fields(model_name: str | None) -> frozenset[str]:
    if model_name is None:
        return frozenset()
    import dodopayments.types as types

    model = getattr(types, model_name)
    return frozenset((info.alias or name) for name, info in model.model_fields.items())


def plan_event(event_type: str, resource: Resource, calls: Sequence[Any], *, business_id_given: bool) -> EventNeeds:
    wanted = webhook_fields(event_type)
    listed = sdk_fields(resource.list_model) & wanted
    detailed = sdk_fields(resource.detail_model) & wanted
    needs = EventNeeds(event_type, resource)
    read_keys: set[str] = set()
    for r in reads(calls):
        if r.root == "data":
            read_keys.update(wanted if r.key == WHOLE or r.key is None else {r.key})
        elif r.root == "timestamp":
            read_keys.update(k for k in resource.time_candidates(event_type) if k in wanted)
        elif r.root == "business_id":
            if business_id_given:
                needs.business_id_from = "flag"
            else:
                needs.business_id_from = "object"
                read_keys.add("business_id")
    read_keys &= wanted | {"business_id"}
    fetchable = listed | detailed
    needs.fetch_detail = bool(read_keys - listed) and bool((read_keys - listed) & detailed)
    have = detailed | listed if needs.fetch_detail else listed
    needs.keep = frozenset(wanted & have)
    for r in reads(calls):
        if r.root == "data" and r.key != WHOLE and r.key in wanted and r.key not in fetchable:
            needs.missing.append(r)
        elif r.root == "business_id" and not business_id_given and "business_id" not in have:
            needs.missing.append(r)
    return needs


def diagnostics(all_needs: Iterable[EventNeeds]) -> list[Diagnostic]:
    """E701 for every read that no API answer can fill, one per location and field."""
    by_place: dict[tuple[Any, ...], Diagnostic] = {}
    events: dict[tuple[Any, ...], list[str]] = {}
    for needs in all_needs:
        for r in needs.missing:
            what = "the envelope's `business_id`" if r.root == "business_id" else f"`data.{r.key}`"
            key = (r.span.file, r.span.line, r.span.col, r.root, r.key)
            events.setdefault(key, []).append(needs.event_type)
            if key in by_place:
                continue
            hint = ("pass --business-id (your Dodo business id)" if r.root == "business_id" else
                    "guard the value (`??` a default) or leave these events to the live service")
            endpoint = needs.resource.name
            by_place[key] = Diagnostic(
                "E701", Severity.ERROR,
                f"a backfill cannot fill {what}: Dodo's {endpoint} endpoints do not return it, so it would be "
                "absent from every backfilled envelope", r.span, hint=hint)
    out = []
    for key, diag in by_place.items():
        evs = sorted(set(events[key]))
        note = f"read for {', '.join(evs[:4])}" + (f" and {len(evs) - 4} more" if len(evs) > 4 else "")
        out.append(Diagnostic(diag.code, diag.severity, diag.message, diag.span, notes=(note,), hint=diag.hint))
    return sorted(out, key=Diagnostic.sort_key)
