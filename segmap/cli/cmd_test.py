"""`segmap test`: run the `tests:` section of mapping files, pytest style."""
from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(sub) -> None:
    p = sub.add_parser(
        "test",
        help="run the tests: section of mapping files",
        description="Run the test cases in the `tests:` section of each mapping file against sample or given "
        "envelopes. Prints PASSED/FAILED per case, a diff for failures, a warning for mapped events "
        "that no test covers, and `N passed, M failed` last. Exit status: 0 all passed, 1 a test failed "
        "(or a mapping or its tests section has errors), 2 a file could not be read. "
        "The format is documented in docs/authoring.md.",
    )
    p.add_argument("files", nargs="+", metavar="MAPPING", help="mapping file(s) with a tests: section")
    p.add_argument("-k", dest="keyword", metavar="TEXT", help="only run tests whose name contains TEXT")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the output (auto: on a terminal or when FORCE_COLOR is set, never when NO_COLOR is set)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from segmap.authoring.cases import parse_tests, run_case, uncovered_events
    from segmap.authoring.term import Painter, use_colour
    from segmap.compiler.api import MappingError, check_source, compile_source, read_mapping_text
    from segmap.diagnostics.model import Diagnostic
    from segmap.diagnostics.render import render_text

    out = sys.stdout
    colour = use_colour(args.color, out)
    paint = Painter(colour)
    passed = failed = 0
    io_failed = False

    def line(text: str = "") -> None:
        out.write(text + "\n")

    for path in args.files:
        try:
            text, name = read_mapping_text(path)
        except OSError as exc:
            print(f"segmap test: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
            io_failed = True
            continue
        except MappingError as exc:  # not UTF-8
            for d in exc.diagnostics:
                line(render_text(d, exc.sources, colour))
            line(f"{paint('fail', 'FAILED')} {path}: the file cannot be read as a mapping")
            failed += 1
            continue
        result = check_source(text, name)
        cases, tdiags = parse_tests(result.mapping) if result.mapping is not None else ([], [])
        mapping_errors = [d for d in result.diagnostics if d.is_error]
        for d in sorted(mapping_errors + tdiags, key=Diagnostic.sort_key):
            line(render_text(d, result.sources, colour))
            line()
        if args.keyword:
            cases = [c for c in cases if args.keyword in c.name]
        if mapping_errors:
            if not cases:
                line(f"{paint('fail', 'FAILED')} {name}: the mapping has errors")
                failed += 1
            for c in cases:
                line(f"{paint('fail', 'FAILED')} {name}::{c.name} - the mapping has errors")
                failed += 1
            continue
        compiled = compile_source(text, name)
        if not cases and not tdiags and not args.keyword:
            line(f"{paint('warn', 'warning')}: {name}: no tests (add a `tests:` section; see docs/authoring.md)")
        for c in cases:
            node_id = f"{name}::{c.name}"
            if not c.valid:
                line(f"{paint('fail', 'FAILED')} {node_id} - the test case is invalid (see above)")
                failed += 1
                continue
            res = run_case(compiled, c)
            if res.passed:
                line(f"{paint('pass', 'PASSED')} {node_id}")
                passed += 1
                continue
            failed += 1
            line(f"{paint('fail', 'FAILED')} {node_id}")
            line(f"    {paint('dim', f'test at {c.span.file}:{c.span.line}')}")
            for problem in res.problems:
                line(f"    {problem}")
            for text in res.diff:
                style = ("bold" if text.startswith(("---", "+++")) else "hunk" if text.startswith("@@")
                         else "del" if text.startswith("-") else "add" if text.startswith("+") else "")
                line("    " + paint(style, text))
        if not args.keyword:
            missing = uncovered_events(list(result.checked_plan().calls), cases)
            if missing:
                shown = ", ".join(missing)
                line(f"{paint('warn', 'warning')}: {name}: no test for mapped event{'s' if len(missing) != 1 else ''}: {shown}")
    line(f"{passed} passed, {failed} failed")
    if io_failed:
        return EXIT_USAGE
    return EXIT_FAILED if failed else EXIT_OK
