"""segmap: Dodo Payments webhooks -> Segment calls, from a checked mapping file.

Public API (``segmap.__all__``)::

    mapping = segmap.compile_file("segmap.yaml")   # raises MappingError on errors
    calls = mapping.apply(envelope)                 # -> list[Call(call, body)]
    diagnostics = segmap.check_file("segmap.yaml")  # -> list[Diagnostic]

- :func:`compile_file`, :func:`compile_source` -- load, check and compile a
  mapping into a :class:`CompiledMapping` (``apply(envelope)`` -> calls).
- :func:`check_file` -- every :class:`Diagnostic` of a mapping file, never raising for bad input.
- :class:`Call` -- one Segment call: ``call`` (``"track"`` ...), ``body``, ``origin``.
- :class:`Diagnostic` -- one located problem (code, severity, message, span, notes, hint).
- :class:`SegmapError` -- the base of every exception segmap raises on purpose.
- :class:`MappingError` -- a mapping has errors (``diagnostics`` lists them all).
- :class:`MappingRuntimeError` -- a mapping failed on one envelope (``location`` is file:line:col).
- ``__version__`` -- segmap's version.

The heavy parts (grammar, compiler) load on first use so that importing the
package stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from segmap._version import __version__
from segmap.diagnostics.model import Diagnostic
from segmap.errors import SegmapError
from segmap.runtime.calls import Call
from segmap.runtime.values import MappingRuntimeError

if TYPE_CHECKING:  # pragma: no cover
    from os import PathLike

    from segmap.compiler.api import CompiledMapping, MappingError


def compile_file(path: str | PathLike[str], *, strict_warnings: bool = False) -> CompiledMapping:
    """Load, check and compile a mapping file; raise MappingError listing every error."""
    from segmap.compiler.api import compile_file as compile_mapping_file

    return compile_mapping_file(path, strict_warnings=strict_warnings)


def compile_source(text: str, filename: str = "<mapping>") -> CompiledMapping:
    """Check and compile mapping text (``filename`` names it in diagnostics); raise MappingError on errors."""
    from segmap.compiler.api import compile_source as compile_mapping_source

    return compile_mapping_source(text, filename)


def check_file(path: str | PathLike[str]) -> list[Diagnostic]:
    """Every diagnostic for the file (errors and warnings), never raising for bad input."""
    from segmap.compiler.api import check_file as check_mapping_file

    return check_mapping_file(path)


def __getattr__(name: str) -> object:
    """``CompiledMapping`` and ``MappingError`` load the compiler on first use."""
    if name in ("CompiledMapping", "MappingError"):
        from segmap.compiler import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = ["Call", "CompiledMapping", "Diagnostic", "MappingError", "MappingRuntimeError", "SegmapError",
           "check_file", "compile_file", "compile_source", "__version__"]
