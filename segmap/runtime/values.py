"""The value model generated code works with.

Values are JSON values (None, bool, int, float, str, list, dict) plus
``MISSING``, the marker for "absent from the envelope". MISSING behaves like
JavaScript's ``undefined``: an object member whose value is MISSING is
dropped from the output, while None (JSON null) is kept.
"""
from __future__ import annotations

from typing import Any

from segmap.errors import SegmapError


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING = _Missing()

#: The one vocabulary for a value's kind, in every message about values (run-time errors,
#: test-case comparisons, path errors): null, bool, number, string, list, object, missing.
_KIND_NAMES: dict[type, str] = {
    type(None): "null",
    bool: "bool",
    int: "number",
    float: "number",
    str: "string",
    list: "list",
    dict: "object",
    _Missing: "missing",
}


def type_name(x: Any) -> str:
    """The mapping-language name of ``x``'s kind (``"number"``, ``"object"`` ...), for messages."""
    return _KIND_NAMES.get(type(x)) or type(x).__name__


class MappingRuntimeError(SegmapError):
    """An expression failed on one envelope.

    ``location`` is the mapping position (``file:line:col``) of the
    sub-expression that failed, filled in by the generated code's caller.
    """

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message
