"""`segmap plan`: the tracking plan a mapping implies (Segment Protocols, JSON Schema, Markdown)."""
from __future__ import annotations

import argparse
import json
import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def register(sub) -> None:
    p = sub.add_parser(
        "plan",
        help="export the tracking plan a mapping implies",
        description="Export the Segment events, properties and traits a mapping can produce, with the types "
        "the checker infers and whether each can be null or absent. Formats: `segment` (a JSON list of "
        "Segment Protocols rules, JSON Schema draft-07), `jsonschema` (the same schemas keyed by call "
        "type and event name), `markdown` (a page for people). Exit status: 0 exported, 1 the mapping "
        "has errors, 2 a file could not be read or written.",
    )
    p.add_argument("mapping", metavar="MAPPING", help="mapping file")
    p.add_argument("--format", "-f", choices=("segment", "jsonschema", "markdown"), default="segment",
                   help="output format (default: segment)")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--no-enums", action="store_true",
                   help="leave out `enum` lists (currencies, statuses, constants), keeping only the JSON types")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from segmap.authoring import tracking_plan as tp
    from segmap.cli.output import print_mapping_error
    from segmap.compiler.api import MappingError, check_source, read_mapping_text

    try:
        text, name = read_mapping_text(args.mapping)
    except OSError as exc:
        print(f"segmap plan: cannot read {args.mapping}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except MappingError as exc:
        print_mapping_error(exc, "segmap plan")
        return EXIT_PROBLEMS
    result = check_source(text, name)
    if not result.ok:
        print_mapping_error(MappingError(result.diagnostics, result.sources), "segmap plan")
        return EXIT_PROBLEMS
    plan = tp.build(result)
    enums = not args.no_enums
    if args.format == "segment":
        rendered = json.dumps(tp.segment_rules(plan, enums), indent=2, ensure_ascii=False) + "\n"
    elif args.format == "jsonschema":
        rendered = json.dumps(tp.json_schemas(plan, enums), indent=2, ensure_ascii=False) + "\n"
    else:
        rendered = tp.markdown(plan)
    for note in plan.notes:
        print(f"segmap plan: note: {note}", file=sys.stderr)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(rendered)
        except OSError as exc:
            print(f"segmap plan: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        sys.stdout.write(rendered)
    return EXIT_OK
