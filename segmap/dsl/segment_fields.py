"""Segment's call vocabulary, from its HTTP API spec: call types, fields, required identities.

The one table every stage reads: the loader (unknown-field errors), the
checker (required fields), both generators (run-time identity checks), the
JSON Schema generator and the delivery side (messages Segment would drop).
Standard library only, so that anything may import it.
"""
from __future__ import annotations

COMMON_FIELDS = ("userId", "anonymousId", "context", "timestamp", "integrations")

CALL_FIELDS: dict[str, tuple[str, ...]] = {
    "track": COMMON_FIELDS + ("event", "properties"),
    "identify": COMMON_FIELDS + ("traits",),
    "group": COMMON_FIELDS + ("groupId", "traits"),
    "page": COMMON_FIELDS + ("name", "category", "properties"),
    "screen": COMMON_FIELDS + ("name", "category", "properties"),
    "alias": COMMON_FIELDS + ("previousId",),
}

CALL_TYPES: tuple[str, ...] = tuple(CALL_FIELDS)

# The value of the call key itself names the call: `track: Order Completed`.
NAME_FIELD = {"track": "event", "page": "name", "screen": "name"}

# Set by segmap, never by a mapping.
RESERVED_FIELDS = ("messageId", "sentAt", "type", "receivedAt", "originalTimestamp", "version", "writeKey")

ALL_FIELDS = tuple(sorted({f for fs in CALL_FIELDS.values() for f in fs}))

# Fields whose value must be an object.
OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
# Identity fields: a value that can be null or absent here loses the call.
IDENTITY_FIELDS = ("userId", "anonymousId", "groupId", "previousId")

# What Segment requires of each call type, or it answers 200 and drops the call: each entry is a set
# of alternatives of which at least one must be present (not null, not absent).
REQUIRED_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "track": (("userId", "anonymousId"), ("event",)),
    "identify": (("userId", "anonymousId"),),
    "group": (("userId", "anonymousId"), ("groupId",)),
    "page": (("userId", "anonymousId"),),
    "screen": (("userId", "anonymousId"),),
    "alias": (("previousId",), ("userId",)),
}
