"""`segmap run`: envelopes in, Segment calls out (JSON lines).

The input may be what `segmap sample` prints in any of its forms: JSON lines (one
envelope per line, streamed: `sample --line`, `sample --all`), one pretty-printed
envelope (`sample TYPE`), several of them one after the other, or a JSON array of
envelopes. Anything else stops with one line saying how to fix it, instead of an
error per line of a pretty-printed file.
"""
from __future__ import annotations

import argparse
import sys

from segmap.errors import SegmapError


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="apply a mapping to envelopes (JSON lines, a JSON object or a JSON array)",
        description="Read Dodo webhook envelopes (stdin by default) as JSON lines, one or more pretty-printed "
        "JSON objects, or a JSON array -- whatever `segmap sample` prints -- and print one JSON line per "
        'envelope: {"type": ..., "calls": [{"call": ..., "body": {...}}]} or {"type": ..., "error": {...}}. '
        "Failed envelopes do not stop the run; the exit status is 1 if any failed (or the input is not "
        "envelopes in one of those forms).",
    )
    p.add_argument("mapping", metavar="FILE", help="mapping file")
    p.add_argument("--input", "-i", metavar="PATH",
                   help="file of envelopes: JSON lines, JSON object(s) or a JSON array (default: stdin)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import orjson

    from segmap.cli.output import print_mapping_error
    from segmap.compiler.api import MappingError, compile_file
    from segmap.runtime import jsjson
    from segmap.runtime.values import MappingRuntimeError

    try:
        mapping = compile_file(args.mapping)
    except OSError as exc:
        print(f"segmap run: cannot read {args.mapping}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except MappingError as exc:
        print_mapping_error(exc, "segmap run")
        return 1
    try:
        stream = open(args.input, "rb") if args.input else sys.stdin.buffer
    except OSError as exc:
        print(f"segmap run: cannot read {args.input}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    failed = 0

    def emit(where: str, item) -> None:
        nonlocal failed
        event_type = None
        try:
            if isinstance(item, BaseException):
                raise item
            if not isinstance(item, dict):
                raise MappingRuntimeError(f"{where}: an envelope must be a JSON object")
            event_type = item.get("type")
            calls = mapping.apply(item)
            record = {"type": event_type, "calls": [{"call": c.call, "body": c.body} for c in calls]}
        except orjson.JSONDecodeError as exc:
            failed += 1
            record = {"type": None, "error": {"message": f"{where}: invalid JSON: {exc}", "location": None}}
        except MappingRuntimeError as exc:
            failed += 1
            record = {"type": event_type, "error": {"message": exc.message, "location": exc.location or None}}
        try:  # numbers as JSON.stringify writes them: the bytes the service would send
            data = jsjson.dumps(record)
        except jsjson.EncodeError as exc:
            failed += 1
            data = jsjson.dumps({"type": None, "error": {"message": exc.message, "location": mapping.file}})
        out.write(data + b"\n")

    with stream:
        try:
            for where, item in read_envelopes(stream):
                emit(where, item)
        except InputFormatError as exc:
            out.flush()
            print(f"segmap run: {exc}", file=sys.stderr)
            return 1
    out.flush()
    if failed:
        print(f"segmap run: {failed} envelope{'s' if failed != 1 else ''} failed", file=sys.stderr)
    return 1 if failed else 0


FIX = ("give JSON lines (one envelope per line: `segmap sample TYPE --line`), a JSON object "
       "(`segmap sample TYPE`) or a JSON array of envelopes")


class InputFormatError(SegmapError, ValueError):
    """The input is none of the accepted forms; the message is one line with the fix."""


def read_envelopes(stream):
    """(where, envelope or JSONDecodeError) for each envelope of `stream` (bytes).

    JSON lines are streamed line by line; a first line that is not a complete JSON value
    means a pretty-printed document, read whole: one or more objects, or an array.
    """
    import orjson

    first = b""
    for raw in stream:
        if raw.strip():
            first = raw
            break
    else:
        return
    try:
        orjson.loads(first)
        complete = True
    except orjson.JSONDecodeError:
        complete = False
    if complete and not first.lstrip().startswith(b"["):
        yield "line 1", _loads(first)
        for n, raw in enumerate(stream, start=2):
            if raw.strip():
                yield f"line {n}", _loads(raw)
        return
    yield from _documents(first + stream.read())


def _loads(raw: bytes):
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return exc


def _documents(data: bytes):
    """A whole input that is not JSON lines: a JSON array, or JSON values one after another."""
    import json

    import orjson

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"the input is not UTF-8 text (byte {exc.start}); {FIX}") from None
    decoder = json.JSONDecoder()
    values = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        try:
            _, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"the input is not JSON at line {exc.lineno}, column {exc.colno} "
                                   f"({exc.msg}); {FIX}") from None
        values.append(text[i:end])
        i = end
    if len(values) == 1 and values[0].startswith("["):
        items = orjson.loads(values[0])
        for k, item in enumerate(items, start=1):
            yield f"item {k}", item
        return
    for k, value in enumerate(values, start=1):
        yield f"envelope {k}", _loads(value.encode("utf-8"))
