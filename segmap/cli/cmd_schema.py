"""`segmap schema`: the JSON Schema of mapping files, for editors' YAML language servers."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of mapping files (for editor completion)",
        description="Print the JSON Schema (draft-07) of segmap mapping files, generated from segmap's own "
        "tables (Segment fields, Dodo event types, functions). Point your editor's YAML extension at it; "
        "see docs/check.md.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the schema to FILE instead of stdout")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from segmap.compiler.json_schema import schema_json

    text = schema_json() + "\n"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"segmap schema: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.output}", file=sys.stderr)
        return 0
    sys.stdout.write(text)
    return 0
