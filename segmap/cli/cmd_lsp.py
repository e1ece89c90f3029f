"""`segmap lsp`: the language server for editors, over stdio."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "lsp",
        help="run the language server (LSP over stdio) for editors",
        description="Run segmap's language server on stdin/stdout: diagnostics of `segmap check` as you type, "
        "completion of envelope paths, functions and Segment fields, hover, and quick fixes. Editors start "
        "it themselves; see docs/editor.md. Needs the optional dependency: pip install 'segmap[lsp]'.",
    )
    p.add_argument("--stdio", action="store_true", help="accepted for editors that pass it; stdio is the only transport")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        from segmap.lsp.server import serve_stdio
    except ImportError as exc:
        print(f"segmap lsp: the language server needs pygls ({exc.name} is not installed): "
              "pip install 'segmap[lsp]'", file=sys.stderr)
        return 2
    serve_stdio()
    return 0
