"""Turn a `Call` into the exact bytes of one Segment batch item.

Encoding happens once, when the call enters the outbox, so that every later
attempt (and every replay) sends byte-identical content with the same
`messageId`; only `sentAt` is stamped per attempt. Anything Segment would
reject for the whole batch (NaN, oversize) or silently drop with a 200
(missing ids, track without event) is refused here with a reason, so it can
be dead-lettered visibly instead of poisoning a batch.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Sequence

import orjson

from segmap._version import __version__
from segmap.dsl.segment_fields import CALL_TYPES, REQUIRED_FIELDS
from segmap.runtime.calls import Call
from segmap.errors import SegmapError
from segmap.runtime.jsjson import JSNumber, js_value
from segmap.runtime.jsjson import default as js_default

# Segment HTTP API limits (contracts §1.4). Message size is measured on the
# UTF-8 JSON of the item as sent, including the per-attempt sentAt stamp.
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500_000
MAX_BATCH_ITEMS = 2_500
MAX_MESSAGE_ID_CHARS = 100

MESSAGE_ID_PREFIX = "segmap-"
LIBRARY_NAME = "segmap"

# Fields Segment sets itself or that we stamp per attempt: never taken from a mapping.
_STRIPPED_FIELDS = ("sentAt", "receivedAt", "originalTimestamp", "version", "writeKey")


class MessageRejected(ValueError, SegmapError):
    """The call can never be delivered as it is; `reason` says why (no secrets, bounded length)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    index: int
    call: str
    message_id: str
    origin: str
    payload: bytes  # JSON object; b"" when the body could not be encoded at all
    reject_reason: str | None = None

    @property
    def sendable(self) -> bool:
        return self.reject_reason is None


def format_sent_at(ts: float | None = None) -> str:
    dt = datetime.now(timezone.utc) if ts is None else datetime.fromtimestamp(ts, timezone.utc)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


SENT_AT_OVERHEAD = len(b'"sentAt":"",') + len(format_sent_at(0.0))


_HASHED_FORM = re.compile(r"h-[0-9a-f]{40}")


def message_id_for(webhook_id: str, index: int) -> str:
    """Deterministic and namespaced, so a retried or replayed webhook maps to the
    same ids and Segment's global dedup drops the copies."""
    candidate = f"{MESSAGE_ID_PREFIX}{webhook_id}-{index}"
    # An id spelt like a digest ("h-" + 40 hex) is hashed too: written out, it would give exactly the
    # messageIds of the long webhook id it is the digest of, and Segment would drop one of the two.
    if len(candidate) <= MAX_MESSAGE_ID_CHARS and webhook_id and not _HASHED_FORM.fullmatch(webhook_id):
        return candidate
    digest = hashlib.sha256(webhook_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{MESSAGE_ID_PREFIX}h-{digest}-{index}"


def library_version() -> str:
    return __version__


def _default(obj: Any) -> Any:
    if obj.__class__ is JSNumber:  # a double whose JSON text JavaScript writes differently from orjson
        return js_default(obj)
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise MessageRejected(f"non-finite number {obj}")
        # Keep the exact decimal text: money must not pass through float.
        text = format(obj, "f") if -30 < obj.adjusted() < 30 else str(obj)
        return orjson.Fragment(text.encode("ascii"))
    raise TypeError(f"value of type {type(obj).__name__} is not JSON serialisable")


def find_non_finite(value: Any, path: str = "") -> str | None:
    """Path of the first NaN/Infinity, since orjson would silently write null for it."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return where or "<root>"
        elif isinstance(item, dict):
            for k, v in item.items():
                if isinstance(v, (dict, list, tuple, float, Decimal)):
                    stack.append((v, f"{where}.{k}" if where else str(k)))
        elif isinstance(item, (list, tuple)):
            for i, v in enumerate(item):
                if isinstance(v, (dict, list, tuple, float, Decimal)):
                    stack.append((v, f"{where}[{i}]"))
        elif isinstance(item, Decimal) and not item.is_finite():
            return where or "<root>"
    return None


def _check_required(call: str, msg: dict[str, Any]) -> None:
    """Segment answers 200 and then drops these, so refuse them where we can still say why.

    The rule is ``REQUIRED_FIELDS``, the one the checker and both generators
    apply; here an empty string counts as missing too, and a track's event
    must be text.
    """

    for alternatives in REQUIRED_FIELDS[call]:
        for key in alternatives:
            v = msg.get(key)
            if key == "event":
                if isinstance(v, str) and v != "":
                    break  # present
            elif v is not None and v != "":
                break  # present
        else:
            raise MessageRejected(_REQUIRED_MESSAGES.get((call, alternatives))
                                  or f"{call} needs {' or '.join(alternatives)}")


# How a refusal is worded when "needs a or b" would say it badly.
_REQUIRED_MESSAGES: dict[tuple[str, tuple[str, ...]], str] = {
    ("alias", ("previousId",)): "alias needs both previousId and userId",
    ("alias", ("userId",)): "alias needs both previousId and userId",
    ("track", ("event",)): "track needs a non-empty string event",
}


def build_message(webhook_id: str, index: int, call: Call, version: str | None = None) -> dict[str, Any]:
    if call.call not in CALL_TYPES:
        raise MessageRejected(f"unknown call type {call.call!r}")
    if not isinstance(call.body, dict):
        raise MessageRejected(f"call body must be an object, not {type(call.body).__name__}")
    msg = {k: v for k, v in call.body.items() if k not in _STRIPPED_FIELDS}
    msg["type"] = call.call
    given = msg.get("messageId")
    if given is None:
        msg["messageId"] = message_id_for(webhook_id, index)
    elif not isinstance(given, str) or not given or len(given) > MAX_MESSAGE_ID_CHARS:
        raise MessageRejected(f"messageId set by the mapping must be a string of 1..{MAX_MESSAGE_ID_CHARS} characters")
    context = msg.get("context")
    if context is None:
        context = {}
    elif not isinstance(context, dict):
        raise MessageRejected("context must be an object")
    msg["context"] = {**context, "library": {"name": LIBRARY_NAME, "version": version or library_version()}}
    return msg


def encode_message(msg: dict[str, Any]) -> bytes:
    try:
        # numbers as JSON.stringify writes them, whoever built the body (segmap.runtime.jsjson)
        data = orjson.dumps(js_value(msg), default=_default)
    except Exception as exc:
        _refuse_non_finite(msg)  # a non-finite Decimal raises in _default: named with its path first
        if isinstance(exc, MessageRejected):
            raise
        if isinstance(exc, (TypeError, orjson.JSONEncodeError)):
            raise MessageRejected(f"cannot encode as JSON: {str(exc)[:200]}") from None
        raise
    # orjson writes NaN and Infinity as null: only a body whose JSON has a null can hold one, and
    # only then is the tree walked (the walk cost more than the encoding itself)
    if b"null" in data:
        _refuse_non_finite(msg)
    size = len(data) + SENT_AT_OVERHEAD
    if size > MAX_MESSAGE_BYTES:
        raise MessageRejected(f"message is {size} bytes, over Segment's {MAX_MESSAGE_BYTES}-byte limit")
    return data


def _refuse_non_finite(msg: dict[str, Any]) -> None:
    where = find_non_finite(msg)
    if where is not None:
        raise MessageRejected(f"NaN or Infinity at {where}; Segment would reject the whole batch")


def encode_call(webhook_id: str, index: int, call: Call, version: str | None = None) -> EncodedMessage:
    """Never raises for bad content: a refused call comes back with `reject_reason`
    (and the payload when one could be built) so that it is stored as a dead letter."""
    message_id = None
    try:
        msg = build_message(webhook_id, index, call, version)
        message_id = msg["messageId"]
        _check_required(call.call, msg)
        payload = encode_message(msg)
    except MessageRejected as exc:
        if message_id is None:
            message_id = message_id_for(webhook_id, index)
        payload = b""
        # keep the refused body for diagnosis when it can be written faithfully
        # (not with NaN: orjson would turn it into null and hide the problem)
        if isinstance(call.body, dict) and find_non_finite(call.body) is None:
            try:
                payload = orjson.dumps(call.body, default=_default)
            except Exception:  # noqa: BLE001 - best effort only
                payload = b""
        return EncodedMessage(index, str(call.call), message_id, call.origin, payload, exc.reason)
    return EncodedMessage(index, call.call, message_id, call.origin, payload)


def encode_calls(webhook_id: str, calls: Sequence[Call]) -> list[EncodedMessage]:
    version = library_version()
    return [encode_call(webhook_id, i, c, version) for i, c in enumerate(calls)]


def stamp(payload: bytes, sent_at: str) -> bytes:
    """Insert sentAt as the first key without re-encoding the stored item."""
    return b'{"sentAt":"' + sent_at.encode("ascii") + b'",' + payload[1:]


def batch_body(payloads: Sequence[bytes], sent_at: str) -> bytes:
    prefix = b'{"sentAt":"' + sent_at.encode("ascii") + b'",'
    items = b",".join([prefix + p[1:] for p in payloads])
    return b'{"batch":[' + items + b'],"sentAt":"' + sent_at.encode("ascii") + b'"}'


BATCH_OVERHEAD = len(batch_body([], format_sent_at(0.0)))


def stamped_size(payload: bytes) -> int:
    return len(payload) + SENT_AT_OVERHEAD


def plan_batches(payloads: Sequence[bytes], max_bytes: int = 475_000, max_items: int = MAX_BATCH_ITEMS) -> list[range]:
    """Greedy split into ranges whose request bodies stay within the limits.

    475,000 rather than 500,000 by default leaves headroom for proxies and for
    Segment counting slightly differently. A single item larger than
    `max_bytes` gets a range of its own; the caller has refused it already.
    """
    max_bytes = min(max_bytes, MAX_BATCH_BYTES)
    max_items = max(1, min(max_items, MAX_BATCH_ITEMS))
    out: list[range] = []
    start, size = 0, BATCH_OVERHEAD
    for i, p in enumerate(payloads):
        item = stamped_size(p) + 1  # comma
        if i > start and (size + item > max_bytes or i - start >= max_items):
            out.append(range(start, i))
            start, size = i, BATCH_OVERHEAD
        size += item
    if start < len(payloads):
        out.append(range(start, len(payloads)))
    return out
