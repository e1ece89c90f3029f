"""segmap: Dodo Payments webhooks -> Segment calls, from a checked mapping file.

Public API::

    mapping = segmap.compile_file("segmap.yaml")   # raises MappingError on errors
    calls = mapping.apply(envelope)                 # -> list[Call(call, body)]
    diagnostics = segmap.check_file("segmap.yaml")  # -> list[Diagnostic]

The heavy parts (grammar, compiler) load on first use so that importing the
package stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from segmap.runtime.calls import Call

from segmap._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from segmap.compiler.api import CompiledMapping, MappingError


def compile_file(path, *, strict_warnings: bool = False) -> "CompiledMapping":
    """Load, check and compile a mapping file; raise MappingError listing every error."""
    from segmap.compiler.api import compile_file as _compile_file

    return _compile_file(path, strict_warnings=strict_warnings)


def compile_source(text: str, filename: str = "<mapping>") -> "CompiledMapping":
    from segmap.compiler.api import compile_source as _compile_source

    return _compile_source(text, filename)


def check_file(path) -> list:
    """Every diagnostic for the file (errors and warnings), never raising for bad input."""
    from segmap.compiler.api import check_file as _check_file

    return _check_file(path)


def __getattr__(name: str):
    if name in ("CompiledMapping", "MappingError"):
        from segmap.compiler import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = ["Call", "CompiledMapping", "MappingError", "check_file", "compile_file", "compile_source", "__version__"]
