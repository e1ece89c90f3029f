"""Entry point: builds the argument parser from the command modules.

Exit codes, shared by every command: 0 success, 1 the input had problems
(errors in a mapping, failed envelopes, failed tests), 2 usage or I/O
problems.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

# Order is the order shown in --help. Each module defines register(subparsers).
COMMAND_MODULES = [
    "segmap.cli.cmd_check",
    "segmap.cli.cmd_explain",
    "segmap.cli.cmd_schema",
    "segmap.cli.cmd_lsp",
    "segmap.cli.cmd_run",
    "segmap.cli.cmd_init",
    "segmap.cli.cmd_sample",
    "segmap.cli.cmd_schema_refresh",
    "segmap.cli.cmd_export",
    "segmap.cli.cmd_preview",
    "segmap.cli.cmd_test",
    "segmap.cli.cmd_plan",
    "segmap.cli.cmd_outbox",
    "segmap.cli.cmd_db",
    "segmap.cli.cmd_serve",
    "segmap.cli.cmd_send",
    "segmap.cli.cmd_config",
    "segmap.cli.cmd_backfill",
]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors; keep that, with help pointer
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(see `{self.prog} --help`)\n")

    def _get_formatter(self) -> argparse.HelpFormatter:
        """argparse's formatter, given the width argparse would compute (the terminal's columns
        minus 2). argparse makes one for every ``add_argument`` (to check ``nargs``), not only
        for help, and each asks ``shutil.get_terminal_size``: importing shutil (with bz2, lzma
        and fnmatch) was about 2% of a cold `segmap check`."""
        # every argparse formatter takes width=; typeshed's protocol names only prog
        return self.formatter_class(prog=self.prog, width=terminal_columns() - 2)  # type: ignore[call-arg]


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil: ``$COLUMNS`` when it is a
    positive number, else the width of the terminal on standard output, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    try:
        return (os.get_terminal_size(stdout.fileno()).columns if stdout is not None else 0) or 80
    except (ValueError, OSError):
        return 80


def _only_module(argv: list[str]) -> str | None:
    """The one command module ``argv`` names (`check ...` -> segmap.cli.cmd_check), if it names one.

    Registering only that command keeps the other commands' imports (datetime, the settings
    model, importlib.resources ...) out of a cold `segmap check`, which pre-commit hooks and
    CI run often; `segmap --help` and anything else still builds the whole parser."""
    first = argv[0] if argv else ""
    module = "segmap.cli.cmd_" + first.replace("-", "_")
    return module if not first.startswith("-") and module in COMMAND_MODULES else None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="segmap",
        description="Turn Dodo Payments webhooks into Segment calls from a checked, compiled mapping file.",
        epilog="Run `segmap COMMAND --help` for the options of one command.",
    )
    from segmap._version import __version__

    parser.add_argument("--version", action="version", version=f"segmap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    only = _only_module(argv) if argv is not None else None
    for name in [only] if only else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _escape_unencodable_output() -> None:
    """User text can hold unpaired surrogates (a JSON `"\\ud800"` read by Python's json): print them
    as the escape `\\ud800` instead of failing with UnicodeEncodeError halfway through the output."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover - a closed or foreign stream
                pass


def main(argv: list[str] | None = None) -> int:
    _escape_unencodable_output()
    as_program = argv is None  # the process is segmap (console script, python -m): it exits after this
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        if as_program and getattr(args, "plain_data_at_exit", False):
            _spare_exit_collections()


def _spare_exit_collections() -> None:
    """Exempt every object alive now from the cycle collections the interpreter runs at exit.

    Those collections walk every object the process made (a twentieth of a cold `segmap
    check`'s instructions) to find cycles whose finalizers should run. A command that leaves only
    plain data behind (no open files, connections or threads: `check` sets
    ``plain_data_at_exit``) has nothing to finalize, so ``gc.freeze`` spares the walk. Only for
    the program itself: a caller of ``main(argv)`` in the same process keeps its collector."""
    import gc

    gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
