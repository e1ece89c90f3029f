"""The storage contract every outbox backend implements (SQLite now, PostgreSQL next).

A webhook is acknowledged only after `accept` (or `quarantine`) committed, and
a row leaves the table only after it was delivered or dead-lettered and then
pruned; everything else in the delivery path is built on those two promises.

Row life cycle::

    pending --claim--> in_flight --ack--> delivered
       ^                  |  |---dead--> dead --replay_dead--> pending
       |---nack/release---|  '---lease expired (crash)--> pending

Every transition out of `in_flight` may carry the claim's `token` (a fencing
token): a worker whose lease expired and whose rows were claimed again by
someone else then changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol, Sequence, runtime_checkable

from segmap.runtime.calls import Call

STATES = ("pending", "in_flight", "delivered", "dead")
# Why a pending row may be held (never claimed for delivery until released):
# "dry_run": accepted while no write key was configured; "test": sent by `segmap send`
# (or signed with the development secret), i.e. sample data, not a Dodo webhook.
HOLDS = ("dry_run", "test")
INBOX_MIN_RETENTION = 7 * 24 * 3600.0
# delivery-state key: when `segmap serve` first started on this store (Unix seconds, first writer wins);
# `segmap backfill` reads it as the default end of its range
FIRST_START_KEY = "service.first_started_at"


@dataclass(frozen=True, slots=True)
class AcceptResult:
    webhook_id: str
    new: bool  # False: the webhook id was already known; nothing was added
    queued: int = 0  # outbox rows added as pending
    dead: int = 0  # rows added directly as dead (could never be sent: NaN, oversize ...)
    quarantined: bool = False

    @property
    def duplicate(self) -> bool:
        return not self.new


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    webhook_id: str
    index: int
    event_type: str
    call: str
    message_id: str
    payload: bytes  # encoded batch item, see segmap.delivery.message
    attempts: int  # failed delivery attempts so far
    first_attempt_at: float | None  # when the first failed attempt was claimed
    created_at: float
    token: str = ""  # the claim's fencing token ("" for rows read without claiming)
    claimed_at: float | None = None
    hold: str | None = None  # set only by list_held


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    webhook_id: str
    index: int
    event_type: str
    call: str
    message_id: str
    reason: str
    attempts: int
    dead_at: float
    created_at: float
    replayable: bool  # False when the item itself is invalid (NaN, oversize): fix the mapping instead
    origin: str = ""


@dataclass(frozen=True, slots=True)
class QuarantinedEnvelope:
    id: int
    webhook_id: str
    event_type: str
    raw_body: bytes
    error: str
    location: str
    created_at: float
    attempts: int
    status: str  # "open" | "resolved"
    hold: str | None = None  # its calls are held when resolved (see HOLDS)


@dataclass(frozen=True, slots=True)
class PauseState:
    reason: str
    since: float


@dataclass(frozen=True, slots=True)
class DeliveryError:
    """The last failed delivery attempt, as recorded by the worker for operators."""

    error: str
    at: float
    failing_since: float | None  # start of the current run of failures; None once an attempt succeeded


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    counts: dict[str, int]
    oldest_pending_age: float | None
    paused: PauseState | None
    quarantined_open: int
    inbox: int
    next_attempt_at: float | None = None
    extra: dict[str, object] = field(default_factory=dict)
    last_error: DeliveryError | None = None
    held: dict[str, int] = field(default_factory=dict)  # held pending calls per reason (HOLDS)


@dataclass(frozen=True, slots=True)
class PruneResult:
    inbox: int
    delivered: int


@runtime_checkable
class OutboxStore(Protocol):
    """Durable inbox + outbox + quarantine. Implementations are thread-safe;
    every method blocks (asyncio callers go through `AsyncOutbox`)."""

    # --- written by the webhook receiver, each call ONE transaction ---
    # `hold` (one of HOLDS, or None) marks the calls so that delivery never claims them
    # until `release_held`; a quarantined envelope passes its hold on to the calls it resolves to.
    def accept(self, webhook_id: str, event_type: str, raw_body: bytes, calls: Sequence[Call], *,
               hold: str | None = None) -> AcceptResult: ...

    def accept_many(self, items: Iterable[tuple]) -> list[AcceptResult]:
        """Items are (webhook_id, event_type, raw_body, calls) or the same plus a hold."""

    def quarantine(self, webhook_id: str, event_type: str, raw_body: bytes, error: str, location: str, *,
                   hold: str | None = None) -> AcceptResult: ...

    # --- used by the delivery worker ---
    def claim(self, limit: int, lease_seconds: float) -> list[OutboxRow]: ...

    def renew(self, token: str, lease_seconds: float) -> int: ...

    def ack(self, ids: Sequence[int], *, token: str | None = None) -> int: ...

    def nack(self, ids: Sequence[int], error: str, retry_at: float, *, token: str | None = None) -> int: ...

    def dead(self, ids: Sequence[int], reason: str, *, token: str | None = None) -> int:
        """Dead-letter rows; a row that was in flight counts the attempt that failed."""

    def release(self, ids: Sequence[int], *, token: str | None = None) -> int: ...

    def set_paused(self, reason: str | None) -> None:
        """Record or clear a delivery pause (401/403). Clearing one restarts the retry budget of
        pending rows: no attempt was made while paused."""

    def paused(self) -> PauseState | None: ...

    def record_delivery_error(self, error: str) -> None:
        """Remember the last failed attempt (and when the current run of failures began)."""

    def record_delivery_ok(self) -> None:
        """An attempt succeeded: the run of failures is over (the last error is kept)."""

    def last_delivery_error(self) -> DeliveryError | None: ...

    # --- small named facts kept beside the outbox (backfill cursors, first start) ---
    def get_state(self, key: str) -> bytes | None:
        """The value stored under `key` in the delivery-state table, or None."""

    def put_state(self, key: str, value: bytes, *, only_if_absent: bool = False) -> bytes:
        """Store `value` under `key` (one transaction) and return what is stored now: with
        `only_if_absent`, an existing value is kept and returned (a first-writer-wins fact)."""

    # --- operations (CLI, health checks) ---
    def counts(self) -> dict[str, int]: ...

    def has_undelivered(self) -> bool: ...

    def oldest_pending_age(self) -> float | None: ...

    def next_attempt_at(self) -> float | None: ...

    def status(self) -> OutboxStatus: ...

    def peek(self, limit: int, after_id: int = 0) -> list[OutboxRow]: ...

    def list_dead(self, *, event_type: str | None = None, reason: str | None = None, since: float | None = None,
                  limit: int | None = None) -> list[DeadLetter]: ...

    def replay_dead(self, *, event_type: str | None = None, reason: str | None = None, since: float | None = None) -> int: ...

    def list_quarantine(self, *, open_only: bool = True, event_type: str | None = None) -> list[QuarantinedEnvelope]: ...

    def resolve_quarantine(self, quarantine_id: int, calls: Sequence[Call]) -> AcceptResult: ...

    def record_quarantine_failure(self, quarantine_id: int, error: str, location: str = "") -> None: ...

    # --- held calls: an explicit decision before sample or dry-run data reaches Segment ---
    def held_counts(self) -> dict[str, int]:
        """Held pending calls per reason (only reasons with calls)."""

    def list_held(self, *, hold: str | None = None, limit: int | None = None) -> list[OutboxRow]: ...

    def release_held(self, *, hold: str | None = None, webhook_ids: Sequence[str] | None = None) -> int:
        """Make held calls deliverable (due now). None = every reason / every webhook."""

    def discard_held(self, *, hold: str | None = None, webhook_ids: Sequence[str] | None = None) -> int:
        """Delete held calls (they are never sent); their webhooks stay in the inbox for dedup."""

    def prune(self, *, inbox_older_than: float = INBOX_MIN_RETENTION, delivered_older_than: float = INBOX_MIN_RETENTION) -> PruneResult: ...

    def close(self) -> None: ...
