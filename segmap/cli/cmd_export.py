"""`segmap export js`: the mapping as a Svix transformation for the Dodo dashboard;
`segmap export python`: the mapping as a Python module for one's own webhook endpoint.

For teams that would rather not run a service: paste the output into the
endpoint's transformation and Dodo's delivery sends Segment the same calls
``segmap run`` would produce (tests/js proves it on every event type). The
mapping is checked first; exit 1 when it has errors, exceeds the
dashboard's code limit or uses something JavaScript cannot express.
"""
from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a mapping for another runtime (js: a Svix transformation for the Dodo dashboard)",
        description="Export a checked mapping as one self-contained `function handler(webhook)` in plain "
        "JavaScript (ES2019) for the transformation of a Dodo Payments webhook endpoint. Mapped events are "
        "sent to the Segment HTTP API (one call to /v1/<call>, several to /v1/batch); every other event is "
        "cancelled. Exit status: 0 written, 1 the mapping has errors or cannot be exported, 2 usage or I/O errors.",
    )
    p.add_argument("target", choices=("js", "python"),
                   help="what to export: js (Svix transformation) or python (a module with apply(), "
                   "apply_json() and apply_json_bytes() that imports only segmap.runtime)")
    p.add_argument("mapping", metavar="MAPPING", help="the mapping file")
    p.add_argument("-o", "--output", metavar="FILE", help="write the handler here instead of standard output")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--region", choices=("us", "eu"), default="us",
                       help="Segment region of the workspace: us (api.segment.io, default) or eu "
                       "(events.eu1.segmentapis.com); a write key only works in its own region")
    where.add_argument("--host", metavar="URL", help="another Segment-compatible API base URL (/v1 is appended "
                       "unless present), e.g. a proxy")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from segmap.cli.output import print_mapping_error
    from segmap.compiler import jsgen
    from segmap.compiler.api import MappingError

    if args.target == "python":
        return _run_python(args)

    try:
        host = jsgen.base_url(args.region, args.host)
    except ValueError as exc:
        print(f"segmap export: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        exported = jsgen.export_file(args.mapping, host=host)
    except OSError as exc:
        print(f"segmap export: cannot read {args.mapping}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except MappingError as exc:
        print_mapping_error(exc, "segmap export")
        return EXIT_PROBLEMS
    except jsgen.JsExportError as exc:
        print(f"segmap export: error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    if exported.diagnostics:  # warnings only: errors stopped us above
        _print_warnings(exported.diagnostics, args.mapping)
    if args.output:
        try:
            with open(args.output, "w", encoding="ascii", newline="\n") as fh:
                fh.write(exported.source)
        except OSError as exc:
            print(f"segmap export: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        sys.stdout.write(exported.source)
    n = len(exported.event_types)
    print(f"segmap export: wrote {args.output or 'the handler to standard output'} ({len(exported.source):,} of "
          f"{jsgen.MAX_CODE_CHARS:,} characters, {n} event type{'s' if n != 1 else ''}, calls to {host})",
          file=sys.stderr)
    return EXIT_OK


def _run_python(args: argparse.Namespace) -> int:
    """The generated Python module as a file, for calling the mapping from one's own endpoint."""
    from segmap.cli.output import print_mapping_error
    from segmap.compiler.api import MappingError, check_source, export_python, read_mapping_text

    if args.region != "us" or args.host:
        print("segmap export: error: --region and --host are for the js target", file=sys.stderr)
        return EXIT_USAGE
    try:
        text, name = read_mapping_text(args.mapping)
        checked = check_source(text, name)
        source = export_python(text, name, checked=checked)
    except OSError as exc:
        print(f"segmap export: cannot read {args.mapping}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except MappingError as exc:
        print_mapping_error(exc, "segmap export")
        return EXIT_PROBLEMS
    if checked.diagnostics:  # warnings only: errors stopped us above
        _print_warnings(checked.diagnostics, args.mapping)
    if args.output:
        try:
            with open(args.output, "w", encoding="ascii", newline="\n") as fh:
                fh.write(source)
        except OSError as exc:
            print(f"segmap export: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"segmap export: wrote {args.output} (imports only segmap.runtime; "
              "apply, apply_json, apply_json_bytes)", file=sys.stderr)
    else:
        sys.stdout.write(source)
    return EXIT_OK


def _print_warnings(diagnostics, path: str) -> None:
    """Warnings go to stderr, so stdout stays a clean script."""

    from segmap.compiler.api import read_mapping_text
    from segmap.diagnostics.model import SourceMap
    from segmap.diagnostics.render import write_diagnostics

    text, name = read_mapping_text(path)
    from segmap.colour import use_colour

    colour = use_colour("auto", sys.stderr)
    write_diagnostics(diagnostics, SourceMap({name: text}), "text", sys.stderr, colour)
