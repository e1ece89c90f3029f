"""The pipeline in one place: load -> check -> generate -> compile once."""
from __future__ import annotations

import itertools
import zlib
from typing import TYPE_CHECKING, Any

from segmap.diagnostics.model import Diagnostic, Severity, SourceMap, Span
from segmap.runtime.calls import Call
from segmap.errors import SegmapError
from segmap.record import MutableRecord

if TYPE_CHECKING:  # not imported at run time: a cold `segmap check` needs neither
    from os import PathLike

    from segmap.compiler.plan import Plan
    from segmap.dsl.ast import MappingFile
    from segmap.runtime.entry import Entry

_counter = itertools.count()


class MappingError(SegmapError):
    """The mapping has errors; ``diagnostics`` lists all of them (and the warnings)."""

    def __init__(self, diagnostics: list[Diagnostic], sources: SourceMap):
        self.diagnostics = diagnostics
        self.sources = sources
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0] if errors else diagnostics[0]
        where = f"{first.span}: " if first.span else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{where}{first.code}: {first.message}{more}")


class CheckResult(MutableRecord):
    _fields = ("diagnostics", "sources", "mapping", "plan", "acknowledged")  # a __dict__, as a dataclass has (weak references, extra attributes)
    diagnostics: list[Diagnostic]
    sources: SourceMap
    mapping: MappingFile | None  # None when the file did not load (broken YAML)
    plan: Plan | None  # None when the file did not load
    #: warnings an `# segmap: allow` comment (or `ignore`) acknowledged; not in ``diagnostics``
    acknowledged: list[Diagnostic]

    def __init__(self, diagnostics: list[Diagnostic], sources: SourceMap, mapping: MappingFile | None = None,
                 plan: Plan | None = None,
                 acknowledged: list[Diagnostic] | None = None) -> None:
        self.diagnostics = diagnostics
        self.sources = sources
        self.mapping = mapping
        self.plan = plan
        self.acknowledged = [] if acknowledged is None else acknowledged

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def checked_plan(self) -> Plan:
        """The plan, for a mapping that checked without errors; MappingError otherwise."""
        if self.plan is None or not self.ok:
            raise MappingError(self.diagnostics, self.sources)
        return self.plan


def check_source(text: str, filename: str, ignore: tuple[str, ...] = ()) -> CheckResult:
    """Check a mapping's text. Warnings acknowledged by `# segmap: allow`
    comments or named in ``ignore`` move to ``acknowledged``."""
    from segmap.compiler.checker import Checker
    from segmap.diagnostics import acknowledge
    from segmap.dsl.loader import load_mapping

    sources = SourceMap({filename: text})
    mapping, diags = load_mapping(text, filename)
    plan = None
    if mapping is not None:
        checker = Checker(mapping)
        more, plan = checker.check()
        diags = diags + more
    from segmap.diagnostics.cap import cap_per_file

    diags, acknowledged = acknowledge.apply(sorted(diags, key=Diagnostic.sort_key), text, filename, ignore)
    return CheckResult(cap_per_file(diags), sources, mapping, plan, acknowledged)


def read_mapping_text(path: str | PathLike[str]) -> tuple[str, str]:
    with open(path, "rb") as fh:  # not pathlib: a cold `segmap check` does not otherwise import it
        data = fh.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError([Diagnostic("E001", Severity.ERROR, f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                                       Span(str(path), 1, 1))], SourceMap()) from None
    return text.lstrip("\ufeff"), str(path)


def check_file(path: str | PathLike[str]) -> list[Diagnostic]:
    try:
        text, name = read_mapping_text(path)
    except MappingError as exc:
        return exc.diagnostics
    return check_source(text, name).diagnostics


class CompiledMapping(MutableRecord):
    """A compiled mapping: ``apply(envelope)`` returns the Segment calls for it.

    It holds the generated module and what calling it needs, nothing of the
    check that produced it (``check`` checks the mapping text again when asked),
    so a service that recompiles on every reload keeps one mapping's worth of memory.
    """

    _fields = ("file", "_source_z", "diagnostics", "event_types", "_entry", "_text")  # it keeps a __dict__
    _hidden = ("_source_z", "_entry", "_text")
    file: str
    _source_z: bytes  # the generated Python source, zlib-compressed (see `source`)
    diagnostics: list[Diagnostic]
    event_types: tuple[str, ...]
    _entry: Entry | None  # over the generated module's globals (required)
    _text: str  # the mapping text, for `check`

    def __init__(self, file: str, _source_z: bytes, diagnostics: list[Diagnostic] | None = None,
                 event_types: tuple[str, ...] = (), _entry: Entry | None = None, _text: str = "") -> None:
        self.file = file
        self._source_z = _source_z
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.event_types = event_types
        self._entry = _entry
        self._text = _text
        self._post_init()

    @property
    def source(self) -> str:
        """The generated Python source (kept compressed: it is read when shown or when a general
        function is first needed, while a reloading service keeps one per mapping for good)."""
        return _unzip(self._source_z)

    def _post_init(self) -> None:
        entry = self._bound
        self._dispatch = entry.dispatch
        entry.apply.__doc__ = CompiledMapping.apply.__doc__
        entry.apply.__qualname__ = "CompiledMapping.apply"
        # the entry's functions shadow the methods below (same behaviour, one call less per envelope)
        self.__dict__.update(apply=entry.apply, apply_json=entry.apply_json, apply_json_bytes=entry.apply_json_bytes)

    @property
    def _bound(self) -> Entry:
        """The entry over the generated module (every CompiledMapping is made with one)."""
        if self._entry is None:
            raise TypeError("CompiledMapping needs the generated module's Entry (use compile_source)")
        return self._entry

    @property
    def check(self) -> CheckResult:
        """The check of the mapping text (diagnostics, AST, plan), computed again on each use."""
        return check_source(self._text, self.file)

    def apply(self, envelope: dict[str, Any]) -> list[Call]:  # replaced per instance by the entry's closure
        """Calls for one envelope (empty for unmapped event types).

        Raises MappingRuntimeError, located at the mapping's file:line:col,
        when an expression fails on this envelope.
        """
        return self._bound.apply(envelope)

    def apply_json(self, raw: bytes | bytearray | memoryview | str) -> list[Call]:  # replaced per instance
        """Calls for one envelope given as JSON text: exactly ``apply(orjson.loads(raw))``.

        Text that is not JSON raises MappingRuntimeError too ("the envelope is not
        valid JSON: ..."), located at the mapping file.
        """
        return self._bound.apply_json(raw)

    def apply_json_bytes(self, raw: bytes | bytearray | memoryview | str) -> bytes:  # replaced per instance
        """JSON in, JSON out: ``[{"call": "track", "body": {...}}, ...]`` (``Call.to_json()`` of each call)
        as compact UTF-8 bytes, numbers as ``JSON.stringify`` writes them, ``b"[]"`` for an unmapped event
        type. Fails as :meth:`apply_json` does."""
        return self._bound.apply_json_bytes(raw)

    def handles(self, event_type: str) -> bool:
        return event_type in self._dispatch


def _compile_checked(result: CheckResult, filename: str, strict_warnings: bool = False, text: str = "") -> CompiledMapping:
    import weakref

    from segmap._version import __version__
    from segmap.compiler import pygen
    from segmap.compiler.function_types import python_name
    from segmap.runtime.entry import Entry

    if not result.ok or (strict_warnings and result.diagnostics):
        raise MappingError(result.diagnostics, result.sources)
    generated = pygen.generate(result.checked_plan(), filename, __version__, python_name)
    number = _code_number()
    code_name = f"<segmap:{ascii(filename)[1:-1]}#{number}>"  # no NULs or odd characters in code names
    namespace: dict[str, Any] = {"__name__": f"segmap_generated_{next(_counter)}"}
    source_z = zlib.compress(generated.source.encode("utf-8"), 1)
    # where each general function is in the source (its text is not kept twice)
    lazy = {name: (first, fn_text.count("\n") + 1) for name, (first, fn_text) in generated.lazy.items()}

    def _lazy(name: str, env: dict[str, Any]) -> Any:
        """Compile a general (cold-path) function, or a JSON twin, the first time it is needed, then run it.

        It is compiled from its own lines of the module, at their line numbers, so tracebacks
        and error locations are those of the whole module. The stub takes the compiled code too,
        so the dispatch tables holding it run the real function from then on."""
        stub = namespace[name]
        first, n = lazy[name]
        fn_text = "\n".join(_unzip(source_z).split("\n")[first - 1:first - 1 + n])
        exec(compile("\n" * (first - 1) + fn_text, code_name, "exec"), namespace)  # noqa: S102 - our own source
        stub.__code__ = namespace[name].__code__
        return namespace[name](env)

    namespace["_lazy"] = _lazy
    # The general versions only run for envelopes off the fast path: compile them on first use.
    exec(compile(generated.exec_source, code_name, "exec"), namespace)  # noqa: S102
    entry = Entry(namespace, source=lambda: _unzip(source_z), code_name=code_name)
    compiled = CompiledMapping(filename, source_z, result.diagnostics, tuple(result.checked_plan().calls), entry, text)
    # Tracebacks show generated lines: the entry registers them with linecache when an envelope first
    # fails, and they go with the mapping (a service recompiling on every reload keeps no old text).
    weakref.finalize(compiled, _release, code_name, number)
    return compiled


def _unzip(data: bytes) -> str:
    return zlib.decompress(data).decode("utf-8")


# Code names are reused once their mapping is gone: CPython keeps every distinct code file name it
# compiled for good (about 80 bytes each), which a service recompiling on each reload would add up.
_free_numbers: list[int] = []


def _code_number() -> int:
    try:
        return _free_numbers.pop()
    except IndexError:
        return next(_counter)


def _release(code_name: str, number: int) -> None:
    import linecache

    linecache.cache.pop(code_name, None)
    _free_numbers.append(number)


def compile_source(text: str, filename: str = "<mapping>", strict_warnings: bool = False) -> CompiledMapping:
    return _compile_checked(check_source(text, filename), filename, strict_warnings, text)


def compile_file(path: str | PathLike[str], strict_warnings: bool = False) -> CompiledMapping:
    text, name = read_mapping_text(path)
    return compile_source(text, name, strict_warnings)


def export_python(text: str, filename: str = "<mapping>", *, checked: CheckResult | None = None) -> str:
    """The mapping as a Python module that imports only ``segmap.runtime``: ``apply``, ``apply_json`` and
    ``apply_json_bytes`` at its top level, its line map inside (``segmap export python``).

    ``checked``: the check of this same text, when the caller has made it already (for its warnings)."""
    from segmap._version import __version__
    from segmap.compiler import pygen
    from segmap.compiler.function_types import python_name

    result = check_source(text, filename) if checked is None else checked
    return pygen.generate(result.checked_plan(), filename, __version__, python_name, entry=True).source
