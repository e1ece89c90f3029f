"""`segmap db ...`: the outbox database's schema version, upgrades ahead of a deploy.

Stores upgrade themselves when they are opened (serve, send, outbox commands),
so `upgrade` is only needed to do it at a chosen moment (a deploy job before the
new release starts) or to see it done; `version` changes nothing.
Exit codes: 0 done / up to date, 1 the database needs an upgrade (`version`),
2 usage or I/O errors, and a schema newer than this segmap.
"""
from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

_EPILOG = """\
examples:
  segmap db version --db segmap.db
  segmap db upgrade --db postgresql://segmap@db.internal/segmap
  SEGMAP_DB=postgresql://... segmap db upgrade

--db defaults to $SEGMAP_DB, then db in the config file, else segmap.db; a postgresql:// URL selects PostgreSQL.
exit codes: 0 ok, 1 an upgrade is due (version), 2 usage or I/O error, or a schema newer than this segmap
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "db", help="outbox database: schema version and upgrade",
        description="Show or upgrade the schema version of the outbox database (SQLite file or PostgreSQL URL).",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="db_command", metavar="ACTION", parser_class=type(p))
    sub.required = True

    def db_arg(sp):
        from segmap.cli.settings_args import add_config_argument

        sp.add_argument("--db", metavar="PATH|URL", default=None,
                        help="SQLite file or postgresql:// URL (default $SEGMAP_DB, db in the config file, else segmap.db)")
        add_config_argument(sp)

    v = sub.add_parser("version", help="the schema version of the database and of this segmap (changes nothing)")
    db_arg(v)
    v.set_defaults(handler=cmd_version)
    u = sub.add_parser("upgrade", help="apply missing schema migrations now (opening a store does it too)")
    db_arg(u)
    u.set_defaults(handler=cmd_upgrade)


def _target(args) -> str | None:
    """--db, else $SEGMAP_DB, else the config file, else segmap.db (the settings model decides)."""
    from segmap.cli.settings_args import resolve

    settings = resolve(args, "segmap db", {"db": args.db})
    return None if settings is None else settings.db


def _err(msg: str) -> None:
    print(f"segmap db: {msg}", file=sys.stderr)


def _open(target: str, *, upgrade: bool):
    import sqlite3

    from segmap.delivery.outbox import SchemaOutdated, describe, open_store

    try:
        return open_store(target, create=False, upgrade=upgrade)
    except SchemaOutdated:
        raise
    except FileNotFoundError:
        _err(f"no outbox database at {describe(target)}")
    except (ValueError, PermissionError, sqlite3.Error, RuntimeError, OSError) as exc:
        _err(f"cannot open {describe(target)}: {exc}")
    return None


def cmd_version(args) -> int:
    from segmap.delivery.outbox import SCHEMA_LATEST, SchemaOutdated, describe

    target = _target(args)
    if target is None:
        return EXIT_USAGE
    try:
        store = _open(target, upgrade=False)
    except SchemaOutdated as exc:
        print(f"{describe(target)}: {exc}")
        return EXIT_PROBLEMS
    if store is None:
        return EXIT_USAGE
    try:
        print(f"{describe(target)}: schema version {store.schema_version()} (this segmap: {SCHEMA_LATEST}); up to date")
    finally:
        store.close()
    return EXIT_OK


def cmd_upgrade(args) -> int:
    from segmap.delivery.outbox import describe

    target = _target(args)
    if target is None:
        return EXIT_USAGE
    store = _open(target, upgrade=True)
    if store is None:
        return EXIT_USAGE
    try:
        before, now = store.upgraded_from, store.schema_version()
    finally:
        store.close()
    if before == now:
        print(f"{describe(target)}: schema version {now}; nothing to do")
    else:
        print(f"{describe(target)}: upgraded schema version {before} -> {now}")
    return EXIT_OK
