"""`segmap run`: envelopes in (JSON lines), Segment calls out (JSON lines)."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="apply a mapping to envelopes given as JSON lines",
        description="Read Dodo webhook envelopes as JSON lines (stdin by default) and print one JSON line per "
        'envelope: {"type": ..., "calls": [{"call": ..., "body": {...}}]} or {"type": ..., "error": {...}}. '
        "Failed envelopes do not stop the run; the exit status is 1 if any failed.",
    )
    p.add_argument("mapping", metavar="FILE", help="mapping file")
    p.add_argument("--input", "-i", metavar="PATH", help="JSON-lines file of envelopes (default: stdin)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import orjson

    from segmap.cli.output import print_mapping_error
    from segmap.compiler.api import MappingError, compile_file
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
    with stream:
        for lineno, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            event_type = None
            try:
                envelope = orjson.loads(line)
                if not isinstance(envelope, dict):
                    raise MappingRuntimeError(f"line {lineno}: an envelope must be a JSON object")
                event_type = envelope.get("type")
                calls = mapping.apply(envelope)
                record = {"type": event_type, "calls": [{"call": c.call, "body": c.body} for c in calls]}
            except orjson.JSONDecodeError as exc:
                failed += 1
                record = {"type": None, "error": {"message": f"line {lineno}: invalid JSON: {exc}", "location": None}}
            except MappingRuntimeError as exc:
                failed += 1
                record = {"type": event_type, "error": {"message": exc.message, "location": exc.location or None}}
            out.write(orjson.dumps(record) + b"\n")
    out.flush()
    if failed:
        print(f"segmap run: {failed} envelope{'s' if failed != 1 else ''} failed", file=sys.stderr)
    return 1 if failed else 0
