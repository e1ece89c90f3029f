"""A backfill run: Dodo's history -> envelopes -> the mapping -> the outbox, resumably.

Idempotence comes from ids, not from bookkeeping: the envelope of object X in
state S is "webhook" `backfill:S-event:X`, so the inbox refuses it a second
time and its calls get the same deterministic messageIds as before (Segment
deduplicates anything resent). The cursor (resource, window, page) stored in
the outbox database after each committed page only saves work: a run killed
at any point redoes at most one page, and that page adds nothing new.
"""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

import orjson

from segmap.backfill.needs import EventNeeds
from segmap.backfill.resources import Resource
from segmap.backfill.source import DodoSource, Window, iso
from segmap.runtime.values import MappingRuntimeError

WEBHOOK_ID_PREFIX = "backfill:"


def webhook_id_for(event_type: str, object_id: str) -> str:
    """The stand-in webhook id of one fact: the same object in the same state gives the same id."""
    return f"{WEBHOOK_ID_PREFIX}{event_type}:{object_id}"


def cursor_key(resource: Resource) -> str:
    return f"backfill.cursor.{resource.name}"


@dataclass
class Tally:
    objects: int = 0
    mapped: int = 0
    calls_queued: int = 0
    duplicates: int = 0
    quarantined: int = 0
    retrieved: int = 0
    skipped_state: Counter[str] = field(default_factory=Counter)  # resource:state -> n
    unmapped: Counter[str] = field(default_factory=Counter)  # event types the mapping does not handle
    per_event: Counter[str] = field(default_factory=Counter)  # event type -> envelopes mapped
    calls_per_event: Counter[str] = field(default_factory=Counter)
    samples: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)  # (event type, webhook id, [calls]) for --dry-run
    map_seconds: float = 0.0  # envelopes built and mapped
    store_seconds: float = 0.0  # outbox transactions


@dataclass
class Plan:
    since: datetime
    until: datetime
    resources: Sequence[Resource]
    needs: dict[str, EventNeeds]  # event type -> how to build its envelopes
    business_id: str | None = None
    window: timedelta = timedelta(days=7)
    max_pages: int = 100
    concurrency: int = 4
    dry_run: bool = False
    restart: bool = False
    sample_limit: int = 3


class Backfill:
    def __init__(self, plan: Plan, source: DodoSource, mapping: Any, store: Any = None,
                 progress: Callable[["Backfill"], None] | None = None, clock: Callable[[], float] = time.monotonic):
        if not plan.dry_run and store is None:
            raise ValueError("a store is needed unless dry_run")
        self.plan, self.source, self.mapping, self.store = plan, source, mapping, store
        self.tally = Tally()
        self._progress = progress
        self._clock = clock
        self.started = clock()
        self.covered: dict[str, float] = {}  # resource -> share of [since, until) done
        self.current = ""
        self.skipped_done: list[str] = []

    # --- the whole run ---

    def run(self) -> Tally:
        for resource in self.plan.resources:
            self._run_resource(resource)
        self._report(force=True)
        return self.tally

    def fraction_done(self) -> float:
        if not self.plan.resources:
            return 1.0
        return sum(self.covered.get(r.name, 0.0) for r in self.plan.resources) / len(self.plan.resources)

    def _run_resource(self, resource: Resource) -> None:
        plan = self.plan
        span = (plan.until - plan.since).total_seconds() or 1.0
        self.current = resource.name
        cursor = self._load_cursor(resource)
        if cursor.get("done"):
            self.covered[resource.name] = 1.0
            self.skipped_done.append(resource.name)
            return
        pos = _dt(cursor["window_start"]) if "window_start" in cursor else plan.since
        window_end = _dt(cursor["window_end"]) if cursor.get("window_end") else None
        page = int(cursor.get("page", 0))
        while pos < plan.until:
            window = Window(pos, window_end or min(plan.until, pos + plan.window))
            window_end = None
            while True:
                self.covered[resource.name] = (window.start - plan.since).total_seconds() / span
                if page >= plan.max_pages and window.splittable:
                    # deep pages are capped by the API: read this window as two smaller ones
                    window = window.halves()[0]
                    page = 0
                    self._save_cursor(resource, window, page)
                    continue
                items = self.source.page(resource, window, page)
                self._process(resource, items)
                page += 1
                self._save_cursor(resource, window, page)
                self._report()
                if len(items) < self.source.page_size:
                    break
            pos, page = window.end, 0
            self._save_cursor(resource, None, 0, pos=pos)
        self.covered[resource.name] = 1.0
        self._save_cursor(resource, None, 0, pos=plan.until, done=True)

    # --- one page ---

    def _process(self, resource: Resource, items: list[dict[str, Any]]) -> None:
        t = self.tally
        todo: list[tuple[str, dict[str, Any]]] = []
        for item in items:
            t.objects += 1
            event_type = resource.event_type(item)
            if event_type is None:
                t.skipped_state[f"{resource.name}:{item.get(resource.state_field or '', '?')}"] += 1
                continue
            if event_type not in self.plan.needs:
                t.unmapped[event_type] += 1
                continue
            todo.append((event_type, item))
        detail = [(ev, item) for ev, item in todo if self.plan.needs[ev].fetch_detail]
        if detail:
            fetched = self._retrieve_all(resource, [item.get(resource.id_field) for _, item in detail])
            full = iter(fetched)
            todo = [(ev, next(full) if self.plan.needs[ev].fetch_detail else item) for ev, item in todo]
        accepted: list[tuple[str, str, bytes, list[Any]]] = []
        quarantined: list[tuple[str, str, bytes, str, str]] = []
        started = time.perf_counter()
        for event_type, obj in todo:
            webhook_id = webhook_id_for(event_type, str(obj.get(resource.id_field)))
            envelope = self._envelope(event_type, resource, obj)
            raw = orjson.dumps(envelope)
            try:
                calls = self.mapping.apply(envelope)
            except MappingRuntimeError as exc:
                quarantined.append((webhook_id, event_type, raw, exc.message, str(exc.location or "")))
                continue
            t.mapped += 1
            t.per_event[event_type] += 1
            t.calls_per_event[event_type] += len(calls)
            if self.plan.dry_run:
                if len(t.samples) < self.plan.sample_limit:
                    t.samples.append((event_type, webhook_id, [c.to_json() for c in calls]))
                t.calls_queued += len(calls)
                continue
            accepted.append((webhook_id, event_type, raw, calls))
        mapped_at = time.perf_counter()
        t.map_seconds += mapped_at - started
        if self.plan.dry_run:
            t.quarantined += len(quarantined)
            return
        if accepted:
            for res in self.store.accept_many(accepted):
                if res.new:
                    t.calls_queued += res.queued
                else:
                    t.duplicates += 1
        for q in quarantined:
            if self.store.quarantine(*q).new:
                t.quarantined += 1
            else:
                t.duplicates += 1
        t.store_seconds += time.perf_counter() - mapped_at

    def _retrieve_all(self, resource: Resource, ids: list[Any]) -> list[dict[str, Any]]:
        self.tally.retrieved += len(ids)
        if self.plan.concurrency <= 1 or len(ids) == 1:
            return [self.source.retrieve(resource, str(i)) for i in ids]
        with ThreadPoolExecutor(max_workers=self.plan.concurrency, thread_name_prefix="segmap-backfill") as pool:
            return list(pool.map(lambda i: self.source.retrieve(resource, str(i)), ids))

    def _envelope(self, event_type: str, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        needs = self.plan.needs[event_type]
        timestamp = None
        for name in resource.time_candidates(event_type):
            if isinstance(obj.get(name), str) and obj[name]:
                timestamp = obj[name]
                break
        envelope: dict[str, Any] = {}
        business_id = self.plan.business_id or obj.get("business_id")
        if business_id is not None:
            envelope["business_id"] = business_id
        envelope["type"] = event_type
        if timestamp is not None:
            envelope["timestamp"] = timestamp
        envelope["data"] = {k: v for k, v in obj.items() if k in needs.keep}
        return envelope

    # --- cursor and progress ---

    def _load_cursor(self, resource: Resource) -> dict[str, Any]:
        if self.plan.dry_run or self.plan.restart:
            return {}
        raw = self.store.get_state(cursor_key(resource))
        if raw is None:
            return {}
        try:
            cursor: dict[str, Any] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
        same = cursor.get("since") == iso(self.plan.since) and cursor.get("until") == iso(self.plan.until)
        return cursor if same else {}

    def _save_cursor(self, resource: Resource, window: Window | None, page: int, *, pos: datetime | None = None,
                     done: bool = False) -> None:
        if self.plan.dry_run:
            return
        cursor: dict[str, Any] = {"since": iso(self.plan.since), "until": iso(self.plan.until), "page": page,
                                  "done": done}
        if window is not None:
            cursor["window_start"], cursor["window_end"] = iso(window.start), iso(window.end)
        elif pos is not None:
            cursor["window_start"] = iso(pos)
        self.store.put_state(cursor_key(resource), orjson.dumps(cursor))

    def _report(self, force: bool = False) -> None:
        if self._progress is not None:
            self._progress(self)

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
