"""`segmap check`: every problem in one run, located at file:line:col."""
from __future__ import annotations

import argparse
import os
import re
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "check",
        help="check mapping files and report every problem",
        description="Check mapping files against the Dodo event models and the Segment spec. "
        "Exit status: 0 no errors (warnings allowed), 1 errors found, 2 a file could not be read "
        "(reported as error E000 in every format) or bad usage.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="mapping file(s) to check; - reads standard input")
    p.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                   help="text for people (default), json for tools, github for workflow annotations, "
                        "sarif (SARIF 2.1.0) for code-scanning tools")
    p.add_argument("--skip-non-mappings", action="store_true",
                   help="skip YAML files that are not mapping files (no top-level `version:` or `events:` key), "
                        "with a note on stderr; the pre-commit hooks use it so that a workflow or compose file "
                        "named segmap*.yml is not checked as a mapping")
    p.add_argument("--stdin-filename", metavar="NAME", default=None,
                   help="the file name to report for - (standard input); default <stdin>")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the text output (auto: on a terminal or when FORCE_COLOR is set, never when NO_COLOR is set)")
    p.add_argument("--coverage", action="store_true", help="also list the Dodo event types the file leaves unmapped")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 1)")
    p.add_argument("--ignore", metavar="CODES", default="",
                   help="comma-separated warning codes to acknowledge everywhere, e.g. W410,W430 "
                   "(errors cannot be ignored; see `# segmap: allow CODE` for one line)")
    p.set_defaults(handler=run, plain_data_at_exit=True)  # see segmap.cli.main._spare_exit_collections


def _use_colour(choice: str) -> bool:
    from segmap.colour import use_colour

    return use_colour(choice, sys.stdout)


_MAPPING_KEY = re.compile(r"""^(?:version|events|"version"|"events"|'version'|'events')[ \t]*:""", re.M)


def looks_like_mapping(text: str) -> bool:
    """The content test of the pre-commit hooks: a mapping file has `version:` or `events:` at the
    top level (column 0). A GitHub workflow (`on:`, `jobs:`), a compose file (`services:`) or a
    Kubernetes manifest has neither, so a file that is merely named segmap*.yml is skipped; a real
    mapping with a typo in one of the two keys still has the other and is checked."""
    return _MAPPING_KEY.search(text) is not None


def _read_stdin(name: str) -> tuple[str, str]:
    """Standard input as a mapping text, decoded like a file (UTF-8, BOM dropped)."""
    from segmap.compiler.api import MappingError
    from segmap.diagnostics.model import Diagnostic, Severity, SourceMap, Span

    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError([Diagnostic("E001", Severity.ERROR,
                                       f"the input is not UTF-8 text ({exc.reason} at byte {exc.start})",
                                       Span(name, 1, 1))], SourceMap()) from None
    return text.lstrip("\ufeff"), name


def run(args: argparse.Namespace) -> int:
    """Check the files with the persistent parse-tree cache (``segmap.dsl.tree_cache``) on."""
    from segmap.dsl import expressions, tree_cache

    cache = tree_cache.open_default()
    expressions.use_tree_cache(cache)
    try:
        return _run(args)
    finally:
        expressions.use_tree_cache(None)
        cache.save()


def _run(args: argparse.Namespace) -> int:
    from segmap.compiler.api import MappingError, check_source, read_mapping_text
    from segmap.diagnostics.model import SourceMap
    from segmap.diagnostics.render import render_summary, write_diagnostics

    from segmap.diagnostics.acknowledge import error_codes

    ignore = tuple(c.strip().upper() for c in args.ignore.replace(" ", ",").split(",") if c.strip())
    if error_codes(ignore):
        print(f"segmap check: --ignore {', '.join(error_codes(ignore))}: errors cannot be ignored, only warnings",
              file=sys.stderr)
        return 2
    all_diags = []
    acknowledged = 0
    sources = SourceMap()
    io_failed = 0
    coverage: dict[str, list[str]] = {}
    from segmap.diagnostics.model import Diagnostic, Severity, Span

    unreadable = skipped = 0
    for path in args.files:
        try:
            if path == "-":
                text, name = _read_stdin(args.stdin_filename or "<stdin>")
            else:
                text, name = read_mapping_text(path)
        except OSError as exc:
            # a diagnostic, not only a line on stderr: json, github and sarif readers must see it too
            reason = exc.strerror or str(exc)
            all_diags.append(Diagnostic("E000", Severity.ERROR, f"cannot read {path}: {reason}", Span(path, 1, 1)))
            io_failed += 1
            unreadable += 1
            continue
        except MappingError as exc:
            all_diags.extend(exc.diagnostics)
            continue
        if args.skip_non_mappings and not looks_like_mapping(text):
            print(f"segmap check: skipped {name}: not a mapping file (no top-level `version:` or `events:` key)",
                  file=sys.stderr)
            skipped += 1
            continue
        try:
            result = check_source(text, name, ignore)
        except Exception as exc:  # noqa: BLE001 - a checker bug must not look like a crash of the user's file
            if os.environ.get("SEGMAP_DEBUG"):
                raise
            print(f"segmap check: internal error while checking {name}: {type(exc).__name__}: {exc} "
                  "(please report it; SEGMAP_DEBUG=1 shows the traceback)", file=sys.stderr)
            io_failed += 1
            continue
        sources.update(result.sources)
        all_diags.extend(result.diagnostics)
        acknowledged += len(result.acknowledged)
        if args.coverage:
            from segmap.compiler.types import event_types

            mapped = set(result.plan.calls) if result.plan else set()
            coverage[name] = [e for e in event_types() if e not in mapped]
    colour = _use_colour(args.color)
    checked = len(args.files) - io_failed - skipped
    errors = sum(1 for d in all_diags if d.is_error)
    if args.format == "sarif":
        from segmap.diagnostics.sarif import render_sarif

        print(render_sarif(all_diags, unreadable=io_failed))
    elif args.format == "json":
        from segmap.diagnostics.render import render_json

        cov = None
        if args.coverage:
            from segmap.compiler.types import event_types

            total = len(event_types())
            cov = {n: {"mapped": total - len(u), "total": total, "unmapped": u} for n, u in coverage.items()}
        print(render_json(sorted(all_diags, key=lambda d: d.sort_key()), checked, cov))
    else:
        write_diagnostics(all_diags, sources, args.format, sys.stdout, colour)
    if args.format == "text":
        for name, unmapped in coverage.items():
            from segmap.compiler.types import event_types

            total = len(event_types())
            print(f"{name}: {total - len(unmapped)} of {total} Dodo event types mapped" + (":" if unmapped else ""))
            for e in unmapped:
                print(f"  unmapped: {e}")
        summary = render_summary(all_diags) + (f" ({acknowledged} acknowledged)" if acknowledged else "")
        if unreadable:
            summary += f" ({unreadable} file{'s' if unreadable != 1 else ''} could not be read)"
        print(f"{'checked' if errors == 0 else 'failed'}: {summary} in {checked} file{'s' if checked != 1 else ''}",
              file=sys.stderr if errors else sys.stdout)
    elif args.format == "github" and coverage:
        for name, unmapped in coverage.items():
            if unmapped:
                print(f"::notice file={name},title=segmap coverage::{len(unmapped)} Dodo event types unmapped: "
                      + ", ".join(unmapped))
    if io_failed:
        return 2
    if errors or (args.strict and any(d.severity.value == "warning" for d in all_diags)):
        return 1
    return 0
