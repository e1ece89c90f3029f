"""Which Segment fields each call type accepts, from Segment's HTTP API spec.

Shared by the loader (unknown-field errors), the checker (required fields)
and the JSON Schema generator.
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

# The value of the call key itself names the call: `track: Order Completed`.
NAME_FIELD = {"track": "event", "page": "name", "screen": "name"}

# Set by segmap, never by a mapping.
RESERVED_FIELDS = ("messageId", "sentAt", "type", "receivedAt", "originalTimestamp", "version", "writeKey")

ALL_FIELDS = tuple(sorted({f for fs in CALL_FIELDS.values() for f in fs}))

# Fields whose value must be an object.
OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
# Identity fields: a value that can be null or absent here loses the call.
IDENTITY_FIELDS = ("userId", "anonymousId", "groupId", "previousId")
