"""One diagnostics type for every stage (YAML, syntax, checks, runtime), rendered in one place."""
from segmap.diagnostics.model import Diagnostic, Severity, Span, SourceMap, has_errors
from segmap.diagnostics.codes import CODES, CodeInfo, lookup

__all__ = ["CODES", "CodeInfo", "Diagnostic", "Severity", "SourceMap", "Span", "has_errors", "lookup"]
