"""What generated code calls: value helpers with JavaScript semantics, MISSING, Call."""
from segmap.dsl.segment_fields import CALL_TYPES
from segmap.runtime.calls import Call

__all__ = ["CALL_TYPES", "Call"]
