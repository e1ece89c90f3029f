"""What runs in production: helpers the generated code calls, and delivery."""
from segmap.runtime.calls import CALL_TYPES, Call

__all__ = ["CALL_TYPES", "Call"]
