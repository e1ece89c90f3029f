"""`segmap preview`: the Segment calls a mapping makes for a sample (or given) envelope."""
from __future__ import annotations

import argparse
import json
import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def register(sub) -> None:
    p = sub.add_parser(
        "preview",
        help="show the Segment calls a mapping makes for a sample or given envelope",
        description="Apply a mapping to one envelope -- a sample (`--event TYPE`, see `segmap sample`) or "
        "your own (`--input FILE`, one JSON envelope, `-` for stdin) -- and show each Segment call with "
        "the mapping line every value came from, calls skipped by `when:`, and run-time errors with "
        "their location. Exit status: 0 shown, 1 the mapping has errors or failed on the envelope, "
        "2 usage or I/O problems. For machine-readable output use `segmap run`.",
    )
    p.add_argument("mapping", metavar="MAPPING", help="mapping file")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--event", "-e", metavar="TYPE", help="use the sample envelope of this Dodo event type")
    src.add_argument("--input", "-i", metavar="FILE", help="use the envelope in this JSON file (- for stdin)")
    p.add_argument("--variant", type=int, default=0, metavar="N",
                   help="sample variant (with --event): 0 fills every field; others vary currency, people, optional fields")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                   help="override a value first, e.g. --set data.currency=JPY --set data.total_amount=1500 "
                   "(VALUE is JSON, or else text); repeatable")
    p.add_argument("--unset", dest="unsets", action="append", default=[], metavar="PATH",
                   help="remove a key first, e.g. --unset data.tax; repeatable")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the output (auto: on a terminal or when FORCE_COLOR is set, never when NO_COLOR is set)")
    p.set_defaults(handler=run)


def _usage(message: str) -> int:
    print(f"segmap preview: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    from segmap.authoring import paths as P
    from segmap.authoring.preview import preview
    from segmap.authoring.term import Painter, use_colour
    from segmap.cli.output import print_mapping_error
    from segmap.compiler.api import MappingError, compile_file
    from segmap.samples import UnknownEventType, sample_envelope

    if args.variant < 0:
        return _usage("--variant must be >= 0")
    if args.input is not None and args.variant:
        return _usage("--variant picks a sample; it goes with --event, not --input")
    if args.event is not None:
        try:
            envelope = sample_envelope(args.event, variant=args.variant)
        except UnknownEventType as exc:
            return _usage(f"{exc} (see `segmap sample --list`)")
        what = f"sample variant {args.variant}"
    else:
        try:
            raw = sys.stdin.read() if args.input == "-" else open(args.input, encoding="utf-8").read()
        except OSError as exc:
            return _usage(f"cannot read {args.input}: {exc.strerror or exc}")
        try:
            envelope = json.loads(raw)
        except ValueError as exc:
            return _usage(f"{args.input} is not one JSON envelope: {exc}")
        if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
            return _usage(f"{args.input} must hold one JSON object with a `type` (the Dodo event type)")
        what = "stdin" if args.input == "-" else args.input
    overrides = []
    for item in args.sets:
        path, sep, value_text = item.partition("=")
        if not sep:
            return _usage(f"--set takes PATH=VALUE, got `{item}`")
        try:
            value = json.loads(value_text)
        except ValueError:
            value = value_text
        overrides.append(("set", path, value))
    overrides += [("unset", path, None) for path in args.unsets]
    for op, path, value in overrides:
        try:
            segs = P.parse_path(path)
        except P.PathError as exc:
            return _usage(f"bad path `{path}`: {exc}")
        from segmap.compiler.types import event_types

        if envelope["type"] in event_types():
            problem = P.check_path(envelope["type"], segs)
            if problem is not None:
                msg, sug = problem
                return _usage(f"`{path}` does not exist on {envelope['type']}: {msg}"
                              + (f" (did you mean `{sug}`?)" if sug else ""))
        try:
            if op == "set":
                P.set_path(envelope, segs, value)
            else:
                P.unset_path(envelope, segs)
        except P.PathError as exc:
            return _usage(f"--set {path}: {exc}")
    if overrides:
        what += ", with " + ", ".join(f"{op} {path}" for op, path, _ in overrides)
    try:
        compiled = compile_file(args.mapping)
    except OSError as exc:
        return _usage(f"cannot read {args.mapping}: {exc.strerror or exc}")
    except MappingError as exc:
        print_mapping_error(exc, "segmap preview")
        return EXIT_PROBLEMS
    paint = Painter(use_colour(args.color, sys.stdout))
    lines, status = preview(compiled, envelope, what, paint)
    sys.stdout.write("\n".join(lines) + "\n")
    warnings = [d for d in compiled.diagnostics if not d.is_error]
    if warnings:
        print(f"segmap preview: the mapping has {len(warnings)} warning{'s' if len(warnings) != 1 else ''}; "
              f"see `segmap check {args.mapping}`", file=sys.stderr)
    return status
