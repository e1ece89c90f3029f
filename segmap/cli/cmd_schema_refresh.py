"""``segmap schema-refresh``: rebuild the shipped snapshot of Dodo's webhook models.

Run after upgrading the ``dodopayments`` SDK (a dev dependency); ``--check``
is for CI, to catch an SDK bump that nobody refreshed the snapshot for.
"""
from __future__ import annotations

import argparse
import sys

EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schema-refresh",
        help="regenerate segmap/data/dodo_events.json from the installed dodopayments SDK",
        description="Introspect the installed dodopayments SDK and rewrite the schema snapshot the checker uses.",
    )
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 with a diff summary if the snapshot is stale")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from segmap.compiler import snapshot_gen

    try:
        return snapshot_gen.refresh(check=args.check)
    except snapshot_gen.SdkUnavailable as exc:
        print(f"segmap schema-refresh: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except snapshot_gen.UnsupportedAnnotation as exc:
        print(f"segmap schema-refresh: error: the SDK uses a type the snapshot format cannot express: {exc}",
              file=sys.stderr)
        return EXIT_USAGE
