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
  segmap db copy --from segmap.db --to postgresql://segmap@db.internal/segmap   # stop serve first; re-runnable

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
    c = sub.add_parser(
        "copy", help="copy a SQLite outbox into PostgreSQL (inbox, undelivered calls, quarantine, state); re-runnable",
        description="Copy the SQLite outbox into a PostgreSQL database: every inbox entry, every call not yet "
                    "delivered (pending, in flight, dead, held), every quarantined envelope and the delivery state "
                    "(pause, cursors). One transaction; rows already there are left as they are, so running it "
                    "again copies only what is missing. Verifies the result; exit 1 if something is missing.",
    )
    c.add_argument("--from", dest="db", metavar="PATH", default=None,
                   help="the SQLite outbox (default $SEGMAP_DB, db in the config file, else segmap.db)")
    c.add_argument("--to", required=True, metavar="URL", help="the PostgreSQL database, postgresql://...")
    from segmap.cli.settings_args import add_config_argument

    add_config_argument(c)
    c.set_defaults(handler=cmd_copy)


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
    from segmap.delivery.outbox import SchemaOutdated, backend_for, describe
    from segmap.delivery.outbox.migrations import latest

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
        print(f"{describe(target)}: schema version {store.schema_version()} (this segmap: {latest(backend_for(target))}); up to date")
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


def cmd_copy(args) -> int:
    import sqlite3

    from segmap.delivery.outbox import describe, is_postgres_url

    source = _target(args)
    if source is None:
        return EXIT_USAGE
    if is_postgres_url(source):
        _err(f"--from must be a SQLite file, not {describe(source)}")
        return EXIT_USAGE
    if not is_postgres_url(args.to):
        _err(f"--to must be a postgresql:// URL, not {args.to!r}")
        return EXIT_USAGE
    try:
        from segmap.delivery.outbox.copy import copy_sqlite_to_postgres

        report = copy_sqlite_to_postgres(source, args.to)
    except FileNotFoundError:
        _err(f"no outbox database at {source}")
        return EXIT_USAGE
    except (ValueError, PermissionError, sqlite3.Error, RuntimeError, OSError) as exc:
        _err(f"copy from {source} to {describe(args.to)} failed, nothing was written: {exc}")
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - a database error: the transaction was rolled back
        _err(f"copy from {source} to {describe(args.to)} failed, nothing was written: {type(exc).__name__}: {exc}")
        return EXIT_USAGE
    print(f"copied {source} -> {describe(args.to)}")
    for table in ("inbox", "outbox", "quarantine", "delivery_state"):
        print(f"  {table:<15} {report.copied.get(table, 0):>8} copied  {report.present.get(table, 0):>8} already there")
    if not report.ok:
        print("MISSING after the copy: " + ", ".join(report.missing_after), file=sys.stderr)
        return EXIT_PROBLEMS
    print("verified: every inbox entry, undelivered call and quarantined envelope is in the target")
    return EXIT_OK
