"""The pipeline in one place: load -> check -> generate -> compile once."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from segmap.diagnostics.model import Diagnostic, Severity, SourceMap, Span
from segmap.runtime.calls import Call
from segmap.runtime.values import MappingRuntimeError
from segmap.errors import SegmapError

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


@dataclass
class CheckResult:
    diagnostics: list[Diagnostic]
    sources: SourceMap
    mapping: Any = None  # ast.MappingFile
    plan: Any = None  # plan.Plan
    #: warnings an `# segmap: allow` comment (or `ignore`) acknowledged; not in ``diagnostics``
    acknowledged: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


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


def read_mapping_text(path) -> tuple[str, str]:
    with open(path, "rb") as fh:  # not pathlib: a cold `segmap check` does not otherwise import it
        data = fh.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError([Diagnostic("E001", Severity.ERROR, f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                                       Span(str(path), 1, 1))], SourceMap()) from None
    return text.lstrip("\ufeff"), str(path)


def check_file(path) -> list[Diagnostic]:
    try:
        text, name = read_mapping_text(path)
    except MappingError as exc:
        return exc.diagnostics
    return check_source(text, name).diagnostics


@dataclass
class CompiledMapping:
    """A compiled mapping: ``apply(envelope)`` returns the Segment calls for it."""

    file: str
    source: str  # the generated Python source
    diagnostics: list[Diagnostic]
    event_types: tuple[str, ...]
    _dispatch: dict = field(repr=False, default_factory=dict)
    _line_spans: dict = field(repr=False, default_factory=dict)
    _code_name: str = ""
    check: Any = field(repr=False, default=None)

    def __post_init__(self) -> None:
        import orjson  # here, not at import: `segmap check` never needs it

        from segmap.runtime import jsjson

        self._get = self._dispatch.get
        self._loads, self._dumps = orjson.loads, orjson.dumps
        self._decode_error, self._encode_error = orjson.JSONDecodeError, orjson.JSONEncodeError
        self._js_default, self._strict = jsjson.default, orjson.OPT_STRICT_INTEGER
        self.apply = self._make_apply()  # shadows the method below, same behaviour

    def _make_apply(self):
        """``apply`` as a closure over the dispatch table: no bound method, no attribute lookups."""
        get = self._dispatch.get
        fail = self._apply_failed
        empty = list

        def apply(envelope: dict) -> list[Call]:
            try:
                fn = get(envelope["type"])
            except (KeyError, TypeError):
                return fail(envelope, None)
            if fn is None:
                if envelope["type"].__class__ is not str:  # a number or null: as wrong as a list
                    return fail(envelope, None)
                return empty()
            try:
                return fn(envelope)
            except Exception as exc:  # noqa: BLE001 - located and re-raised as MappingRuntimeError
                return fail(envelope, exc)

        apply.__doc__ = CompiledMapping.apply.__doc__
        apply.__qualname__ = "CompiledMapping.apply"
        return apply

    def _apply_failed(self, envelope, exc):
        if exc is None:  # no dispatch: not an object, or no `type`
            if not isinstance(envelope, dict):
                raise MappingRuntimeError(f"an envelope must be a JSON object, got {type(envelope).__name__}",
                                          self.file) from None
            if "type" in envelope:  # a number, null, list or object: not something an event type can be
                from segmap.runtime.functions import type_name

                raise MappingRuntimeError(f"the envelope's `type` must be a string, got {type_name(envelope['type'])}",
                                          self.file) from None
            raise MappingRuntimeError("the envelope has no `type`", self.file) from None
        if isinstance(exc, MappingRuntimeError):
            exc.location = self._locate(exc.__traceback__) or exc.location or self.file
            raise exc
        if isinstance(exc, RecursionError):  # pragma: no cover - bounded inputs make this unreachable
            raise MappingRuntimeError("envelope too deeply nested", self.file) from None
        # an internal bug: never let it pass as a mapping result
        loc = self._locate(exc.__traceback__) or self.file
        raise MappingRuntimeError(f"internal error in generated code: {type(exc).__name__}: {exc}", loc) from exc

    def apply(self, envelope: dict) -> list[Call]:  # replaced per instance by the closure of _make_apply
        """Calls for one envelope (empty for unmapped event types).

        Raises MappingRuntimeError, located at the mapping's file:line:col,
        when an expression fails on this envelope.
        """
        return self._make_apply()(envelope)

    def apply_json(self, raw: bytes | bytearray | memoryview | str) -> list[Call]:
        """Calls for one envelope given as JSON text: exactly ``apply(orjson.loads(raw))``.

        Text that is not JSON raises MappingRuntimeError too ("the envelope is not
        valid JSON: ..."), located at the mapping file.
        """
        try:
            envelope = self._loads(raw)
        except self._decode_error as exc:
            raise MappingRuntimeError(_not_json(exc), self.file) from None
        return self.apply(envelope)

    def apply_json_bytes(self, raw: bytes | bytearray | memoryview | str) -> bytes:
        """JSON in, JSON out: ``[{"call": "track", "body": {...}}, ...]`` (``Call.to_json()`` of each call)
        as compact UTF-8 bytes, ``b"[]"`` for an unmapped event type. Fails as :meth:`apply_json` does."""
        try:
            envelope = self._loads(raw)
        except self._decode_error as exc:
            raise MappingRuntimeError(_not_json(exc), self.file) from None
        calls = self.apply(envelope)
        try:
            # numbers in generated output are already in their JavaScript form (segmap.runtime.jsjson)
            return self._dumps([{"call": c[0], "body": c[1]} for c in calls], default=self._js_default,
                               option=self._strict)
        except self._encode_error as exc:  # a lone surrogate from the mapping's own text
            from segmap.runtime import jsjson

            message = jsjson.LONE_SURROGATE_OUT if "surrogate" in str(exc) else f"a call cannot be encoded as JSON: {exc}"
            raise MappingRuntimeError(message, self.file) from None

    def handles(self, event_type: str) -> bool:
        return event_type in self._dispatch

    def _locate(self, tb) -> str | None:
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self._code_name:
                line = tb.tb_lineno
            tb = tb.tb_next
        if line is None:
            return None
        span = self._line_spans.get(line)
        return str(span) if span else None


def _not_json(exc: Exception) -> str:
    """The message for text orjson refuses; the two refusals the exported JS handler repeats
    (lone surrogates, numbers beyond the doubles) are worded as it words them."""
    from segmap.runtime import jsjson

    text = str(exc)
    if "surrogate" in text:
        return jsjson.LONE_SURROGATE
    if "infinity when parsed as double" in text:
        return jsjson.NUMBER_OUT_OF_RANGE
    return f"the envelope is not valid JSON: {text}"


def _compile_checked(result: CheckResult, filename: str, strict_warnings: bool = False) -> CompiledMapping:
    from segmap._version import __version__
    from segmap.compiler import pygen
    from segmap.compiler.function_types import python_name

    if not result.ok or (strict_warnings and result.diagnostics):
        raise MappingError(result.diagnostics, result.sources)
    generated = pygen.generate(result.plan, filename, __version__, python_name)
    code_name = f"<segmap:{ascii(filename)[1:-1]}#{next(_counter)}>"  # no NULs or odd characters in code names
    namespace: dict = {"__name__": f"segmap_generated_{next(_counter)}"}
    lazy = generated.lazy

    def _lazy(name: str, env):
        """Compile a general (cold-path) function the first time an envelope needs it, then run it.

        It is compiled from its own lines of the module, at their line numbers, so tracebacks
        and error locations are those of the whole module."""
        first, text = lazy[name]
        exec(compile("\n" * (first - 1) + text, code_name, "exec"), namespace)  # noqa: S102 - our own source
        return namespace[name](env)

    namespace["_lazy"] = _lazy
    # The general versions only run for envelopes off the fast path: compile them on first use.
    exec(compile(generated.exec_source or generated.source, code_name, "exec"), namespace)  # noqa: S102
    # make tracebacks show generated lines
    import linecache

    linecache.cache[code_name] = (len(generated.source), None, generated.source.splitlines(True), code_name)
    return CompiledMapping(filename, generated.source, result.diagnostics, tuple(result.plan.calls),
                           namespace["DISPATCH"], generated.line_spans, code_name, result)


def compile_source(text: str, filename: str = "<mapping>", strict_warnings: bool = False) -> CompiledMapping:
    return _compile_checked(check_source(text, filename), filename, strict_warnings)


def compile_file(path, strict_warnings: bool = False) -> CompiledMapping:
    text, name = read_mapping_text(path)
    return compile_source(text, name, strict_warnings)
