"""The unit every stage after the compiler trades in: one Segment call.

Kept free of any import beyond the standard library so that the delivery
side (outbox, client, service) can depend on it without pulling in the
compiler.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CALL_TYPES = ("track", "identify", "group", "page", "screen", "alias")


@dataclass(frozen=True, slots=True)
class Call:
    """One Segment call produced by a mapping.

    ``call`` is the Segment call type (``"track"``, ``"identify"`` ...) and
    ``body`` the JSON object to POST to ``/v1/<call>`` (inside a batch it
    gets ``"type": call`` added). ``origin`` names the mapping rule that
    produced it (``"file.yaml:12:7"``) so that errors downstream can point
    back at the mapping.
    """

    call: str
    body: dict[str, Any]
    origin: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"call": self.call, "body": self.body}
