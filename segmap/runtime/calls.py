"""The unit every stage after the compiler trades in: one Segment call.

Kept free of any import beyond the standard library so that the delivery
side (outbox, client, service) can depend on it without pulling in the
compiler. The call types themselves are listed in ``dsl/segment_fields.py``.
"""
from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    def _tuplegetter(index: int, doc: str) -> Any: ...
else:
    try:  # the C accessor namedtuple uses; itemgetter is the portable fallback
        from collections import _tuplegetter
    except ImportError:  # pragma: no cover
        def _tuplegetter(index, doc):
            return property(itemgetter(index), doc=doc)



class Call(tuple[Any, ...]):
    """One Segment call produced by a mapping: ``Call(call, body, origin="")``.

    ``call`` is the Segment call type (``"track"``, ``"identify"`` ...) and
    ``body`` the JSON object to POST to ``/v1/<call>`` (inside a batch it
    gets ``"type": call`` added). ``origin`` names the mapping rule that
    produced it (``"file.yaml:12:7"``) so that errors downstream can point
    back at the mapping.

    Immutable; two calls are equal when ``call`` and ``body`` are (``origin``
    is not compared). It is a tuple underneath so that generated code can
    build one with a single C call (``tuple.__new__(Call, (call, body,
    origin))``), three times cheaper than a frozen dataclass.
    """

    __slots__ = ()

    def __new__(cls, call: str, body: dict[str, Any], origin: str = "") -> "Call":
        return tuple.__new__(cls, (call, body, origin))

    call: str = _tuplegetter(0, "The Segment call type.")
    body: dict[str, Any] = _tuplegetter(1, "The JSON object to send.")
    origin: str = _tuplegetter(2, "The mapping rule that produced the call, file:line:col.")

    def to_json(self) -> dict[str, Any]:
        return {"call": self[0], "body": self[1]}

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(self[0] == other[0] and self[1] == other[1])
        return other is self  # not NotImplemented: tuple's own == would then compare origins

    def __ne__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return not (self[0] == other[0] and self[1] == other[1])
        return other is not self

    def __hash__(self) -> int:  # like the frozen dataclass it replaces: a dict body is unhashable
        return hash((self[0], self[1]))

    def _no_order(self, other: object) -> Any:
        return NotImplemented

    __lt__ = __le__ = __gt__ = __ge__ = _no_order  # calls have no order (a tuple's would compare origins)

    def __repr__(self) -> str:
        return f"Call(call={self[0]!r}, body={self[1]!r}, origin={self[2]!r})"

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)


#: ``tuple_new(Call, (call, body, origin))`` builds a Call in one C call, skipping
#: ``Call.__new__``; generated code uses it (the tuple must have exactly three items).
tuple_new = tuple.__new__


def json_calls(calls: list[Call]) -> list[dict[str, Any]]:
    """``[c.to_json() for c in calls]``: what ``apply_json_bytes`` serialises. Generated code's JSON
    twins (``_jN``) build these dicts directly; this is for an envelope that left their fast path."""
    return [{"call": c[0], "body": c[1]} for c in calls]
