"""`segmap init`: write the starter mapping."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "init",
        help="write a starter mapping file",
        description="Write a starter mapping (default segmap.yaml) reproducing Dodo Payments' three Segment "
        "transformation examples. Refuses to overwrite an existing file unless --force is given.",
    )
    p.add_argument("path", nargs="?", default="segmap.yaml", metavar="PATH", help="where to write (default: segmap.yaml)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="overwrite an existing file")
    mode.add_argument("--exist-ok", action="store_true",
                      help="leave an existing file alone and succeed (for scripts that init, then serve)")
    p.set_defaults(handler=run)


def starter_text() -> str:
    from importlib import resources

    return resources.files("segmap.cli").joinpath("starter.yaml").read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    import os

    if os.path.exists(args.path) and not args.force:
        if args.exist_ok:
            print(f"{args.path} already exists; left unchanged")
            return 0
        print(f"segmap init: {args.path} already exists (use --force to overwrite, --exist-ok to keep it)",
              file=sys.stderr)
        return 2
    try:
        with open(args.path, "w", encoding="utf-8") as fh:
            fh.write(starter_text())
    except OSError as exc:
        print(f"segmap init: cannot write {args.path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.path}; check it with `segmap check {args.path}`")
    return 0
