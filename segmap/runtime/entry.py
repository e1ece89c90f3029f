"""The entry points of a generated mapping module: ``apply``, ``apply_json``, ``apply_json_bytes``.

A generated module (``CompiledMapping.source``, or the file ``segmap export
python`` writes) ends with its dispatch table, the mapping file's name and
its line map, and binds these three functions from them with
:func:`bind`. They are the same whether the module was compiled in
process by segmap or imported from a file next to a user's webhook
endpoint, which is why they live in ``segmap.runtime`` (generated code
imports nothing else).

The line map is text in the module (``"17=19:7 18=19:7 ..."``: generated
line = mapping line:column), written by the generator as it writes each
line; it is read only when an envelope fails, to say where in the mapping.
"""
from __future__ import annotations

import linecache
from typing import Any, Callable, NoReturn

from segmap.runtime.calls import Call
from segmap.runtime.values import MappingRuntimeError


def parse_line_map(text: str) -> dict[int, str]:
    """``{generated line: "line:col"}`` from the module's ``LINE_MAP`` text."""
    out: dict[int, str] = {}
    for item in text.split():
        line, _, where = item.partition("=")
        out[int(line)] = where
    return out


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


class Entry:
    """What a generated module's namespace needs to be called: dispatch, failures located."""

    def __init__(self, namespace: dict[str, Any], *, source: Callable[[], str] | None = None,
                 code_name: str | None = None) -> None:
        import orjson

        from segmap.runtime import jsjson

        self.file: str = namespace["FILE"]
        self.dispatch: dict[str, Callable[[dict[str, Any]], list[Call]]] = namespace["DISPATCH"]
        # the JSON twins: the same calls as {"call": ..., "body": ...} dicts (absent from a module
        # exported by an older segmap: apply_json_bytes then converts apply's Calls)
        self.json_dispatch: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] | None = \
            namespace.get("JSON_DISPATCH")
        self._globals = namespace
        # for a module compiled in memory: how to get its text, shown in tracebacks once something fails
        self._source, self._code_name = source, code_name
        self._line_map: dict[int, str] | None = None
        self._loads, self._dumps = orjson.loads, orjson.dumps
        self._decode_error, self._encode_error = orjson.JSONDecodeError, orjson.JSONEncodeError
        self._js_default, self._strict = jsjson.default, orjson.OPT_STRICT_INTEGER
        self.apply = self._make_apply()
        self.apply_json_bytes = self._make_apply_json_bytes()

    def _make_apply(self) -> Callable[[Any], list[Call]]:
        """``apply`` as a closure over the dispatch table: no bound method, no attribute lookups."""
        get = self.dispatch.get
        fail = self.failed
        empty = list

        def apply(envelope: Any) -> list[Call]:
            """Calls for one envelope (empty for unmapped event types).

            Raises MappingRuntimeError, located at the mapping's file:line:col,
            when an expression fails on this envelope.
            """
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

        return apply

    def _show_source(self) -> None:
        """Give linecache the generated lines (kept only from the first failure on: a line list costs
        three times the text, and only a traceback reads it). The compiler removes the entry with
        the mapping."""
        name = self._code_name
        if self._source is not None and name is not None and name not in linecache.cache:
            text = self._source()
            linecache.cache[name] = (len(text), None, text.splitlines(True), name)

    def failed(self, envelope: Any, exc: BaseException | None) -> NoReturn:
        """Raise the located MappingRuntimeError for an envelope that failed (never returns)."""
        if exc is not None:
            self._show_source()
        if exc is None:  # no dispatch: not an object, or no `type`
            if not isinstance(envelope, dict):
                raise MappingRuntimeError(f"an envelope must be a JSON object, got {type(envelope).__name__}",
                                          self.file) from None
            if "type" in envelope:  # a number, null, list or object: not something an event type can be
                from segmap.runtime.values import type_name

                raise MappingRuntimeError(f"the envelope's `type` must be a string, got {type_name(envelope['type'])}",
                                          self.file) from None
            raise MappingRuntimeError("the envelope has no `type`", self.file) from None
        if isinstance(exc, MappingRuntimeError):
            exc.location = self.locate(exc.__traceback__) or exc.location or self.file
            raise exc
        if isinstance(exc, RecursionError):  # pragma: no cover - bounded inputs make this unreachable
            raise MappingRuntimeError("envelope too deeply nested", self.file) from None
        # an internal bug: never let it pass as a mapping result
        loc = self.locate(exc.__traceback__) or self.file
        raise MappingRuntimeError(f"internal error in generated code: {type(exc).__name__}: {exc}", loc) from exc

    def locate(self, tb: Any) -> str | None:
        """``file:line:col`` of the mapping code on the innermost generated line of a traceback."""
        line = None
        while tb is not None:
            if tb.tb_frame.f_globals is self._globals:
                line = tb.tb_lineno
            tb = tb.tb_next
        if line is None:
            return None
        if self._line_map is None:
            self._line_map = parse_line_map(self._globals["LINE_MAP"])
        where = self._line_map.get(line)
        return f"{self.file}:{where}" if where else None

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

    def _make_apply_json_bytes(self) -> Callable[[bytes | bytearray | memoryview | str], bytes]:
        """``apply_json_bytes`` as a closure: each event's JSON twin builds the dicts orjson writes
        (no Call objects in between), found as ``apply`` finds its function."""
        loads, dumps, decode_error, encode_error = self._loads, self._dumps, self._decode_error, self._encode_error
        js_default, strict = self._js_default, self._strict
        file = self.file
        fail = self.failed
        if self.json_dispatch is None:  # a module exported by an older segmap: convert apply's Calls
            from segmap.runtime.calls import json_calls

            apply = self.apply

            def twin(envelope: Any) -> list[dict[str, Any]]:
                return json_calls(apply(envelope))

            get: Callable[[str], Any] = lambda _type: twin  # noqa: E731
        else:
            get = self.json_dispatch.get

        def apply_json_bytes(raw: bytes | bytearray | memoryview | str) -> bytes:
            """JSON in, JSON out: ``[{"call": "track", "body": {...}}, ...]`` as compact UTF-8 bytes, numbers
            as ``JSON.stringify`` writes them, ``b"[]"`` for an unmapped event type. Fails as ``apply_json``."""
            try:
                envelope = loads(raw)
            except decode_error as exc:
                raise MappingRuntimeError(_not_json(exc), file) from None
            try:
                fn = get(envelope["type"])
            except (KeyError, TypeError):
                return fail(envelope, None)
            if fn is None:
                if envelope["type"].__class__ is not str:  # a number or null: as wrong as a list
                    return fail(envelope, None)
                return b"[]"
            try:
                out = fn(envelope)
            except Exception as exc:  # noqa: BLE001 - located and re-raised as MappingRuntimeError
                return fail(envelope, exc)
            try:
                # numbers in generated output are already in their JavaScript form (segmap.runtime.jsjson)
                return dumps(out, default=js_default, option=strict)
            except encode_error as exc:  # a lone surrogate from the mapping's own text
                from segmap.runtime import jsjson

                message = jsjson.LONE_SURROGATE_OUT if "surrogate" in str(exc) else f"a call cannot be encoded as JSON: {exc}"
                raise MappingRuntimeError(message, file) from None

        return apply_json_bytes


def bind(namespace: dict[str, Any]) -> tuple[Callable[[Any], list[Call]], Callable[..., list[Call]], Callable[..., bytes]]:
    """``apply``, ``apply_json`` and ``apply_json_bytes`` of the generated module whose globals these are."""
    entry = Entry(namespace)
    return entry.apply, entry.apply_json, entry.apply_json_bytes
