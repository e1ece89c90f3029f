"""``segmap sample``: print realistic Dodo webhook envelopes.

So a mapping can be tried before any real webhook arrives:
``segmap sample --all | segmap run mapping.yaml`` (JSON lines, one envelope each).
"""
from __future__ import annotations

import argparse
import json
import sys

EXIT_OK, EXIT_USAGE = 0, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="print a realistic Dodo webhook envelope (or all of them as JSON lines)",
        description="Print sample Dodo webhook envelopes generated from the schema snapshot.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("event_type", nargs="?", metavar="TYPE", help="event type, e.g. payment.succeeded")
    target.add_argument("--all", action="store_true", help="every event type, one JSON envelope per line")
    target.add_argument("--list", action="store_true", help="list the known event types")
    parser.add_argument("--line", action="store_true",
                        help="print the envelope on one line (JSON lines), e.g. to pipe it into `segmap run`")
    parser.add_argument("--variant", type=int, default=0, metavar="N",
                        help="0 = every field filled (default); other numbers vary currency, people and optional fields")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from segmap.compiler.snapshot import event_types
    from segmap.samples import UnknownEventType, all_samples, sample_envelope

    out = sys.stdout
    if args.variant < 0:
        print("segmap sample: error: --variant must be >= 0", file=sys.stderr)
        return EXIT_USAGE
    if args.list:
        out.write("".join(f"{et}\n" for et in event_types()))
        return EXIT_OK
    if args.all:
        for envelope in all_samples(variant=args.variant).values():
            out.write(json.dumps(envelope, separators=(",", ":")) + "\n")  # ASCII: safe through any pipe
        return EXIT_OK
    try:
        envelope = sample_envelope(args.event_type, variant=args.variant)
    except UnknownEventType as exc:
        print(f"segmap sample: error: {exc}", file=sys.stderr)
        print("(see `segmap sample --list`)", file=sys.stderr)
        return EXIT_USAGE
    if args.line:
        out.write(json.dumps(envelope, ensure_ascii=True, separators=(",", ":")) + "\n")
    else:
        out.write(json.dumps(envelope, ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK
