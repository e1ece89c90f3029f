"""`segmap backfill`: map a merchant's Dodo history and queue the calls in the outbox.

Exit codes: 0 done (or dry run shown), 1 the mapping has errors or reads fields
a backfill cannot fill (E701), or envelopes were quarantined; 2 usage, I/O, or
Dodo's API kept failing (run the same command again to resume).
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from segmap.cli.settings_args import add_config_argument, resolve

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

_EPILOG = """\
examples:
  segmap backfill segmap.yaml --since 2025-01-01 --dry-run        # counts and sample calls, nothing queued
  segmap backfill segmap.yaml --since 2025-01-01                  # queue everything before serve's first start
  segmap backfill segmap.yaml --since 2025-01-01 --until now --only payments,refunds

the API key comes from DODO_PAYMENTS_API_KEY (as Dodo's SDK reads it); --mode test|live picks the
environment (DODO_PAYMENTS_BASE_URL overrides both). The calls go to the outbox (--db, else
SEGMAP_DB, else segmap.db) and are delivered by `segmap serve` or `segmap outbox deliver`.
--until defaults to the first start of `segmap serve` on that database, so that the backfill and
the live service never send the same fact twice. A killed backfill resumes where it stopped when
run again with the same --since/--until; a second run adds nothing.

resources and the webhook each object state stands for: see docs/backfill.md
"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backfill",
        help="map past Dodo payments, subscriptions, refunds... and queue their calls",
        description="Read the merchant's history from Dodo's API with the official SDK, turn each object into the "
                    "envelope of the webhook its state stands for, run the mapping, and queue the calls in the "
                    "outbox for the delivery worker. Resumable and idempotent.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("mapping", metavar="MAPPING", help="the mapping file (the one `segmap serve` runs)")
    p.add_argument("--since", required=True, metavar="DATE", help="first creation time to read (YYYY-MM-DD or ISO)")
    p.add_argument("--until", metavar="DATE", help="end of the range, exclusive (ISO, or `now`); default: when "
                                                      "`segmap serve` first started on this database")
    p.add_argument("--only", metavar="LIST", help="comma-separated resources (default all): payments, refunds, "
                                                   "disputes, subscriptions, license_keys, payouts")
    p.add_argument("--db", metavar="PATH", default=None,
                   help="outbox database: a SQLite file or postgresql:// URL (default $SEGMAP_DB, the config file, "
                        "else segmap.db)")
    p.add_argument("--mode", choices=("test", "live"), help="Dodo environment (default: the SDK's, live)")
    p.add_argument("--business-id", metavar="ID", help="envelope business_id (default: the object's own)")
    p.add_argument("--dry-run", action="store_true", help="read and map, print counts and sample calls; queue nothing")
    p.add_argument("--samples", type=int, default=3, metavar="N", help="sample calls shown by --dry-run (default 3)")
    p.add_argument("--restart", action="store_true", help="ignore saved cursors and read the whole range again")
    p.add_argument("--allow-missing", action="store_true",
                   help="run even if the mapping reads fields a backfill cannot fill (E701); they stay absent")
    p.add_argument("--window", type=float, default=7.0, metavar="DAYS", help="created_at window per listing (default 7)")
    p.add_argument("--page-size", type=int, default=100, metavar="N", help="objects per page, 1-100 (default 100)")
    p.add_argument("--max-pages", type=int, default=100, metavar="N",
                   help="pages per window before it is split in two (default 100)")
    p.add_argument("--max-rps", type=float, default=20.0, metavar="N", help="API requests per second (default 20)")
    p.add_argument("--concurrency", type=int, default=4, metavar="N",
                   help="parallel GETs when objects must be retrieved one by one (default 4)")
    add_config_argument(p)
    p.set_defaults(handler=run)


def _err(msg: str) -> None:
    print(f"segmap backfill: {msg}", file=sys.stderr)


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """YYYY-MM-DD, an ISO date-time (naive = UTC) or `now`."""
    if text.strip().lower() == "now":
        return now or datetime.now(timezone.utc)
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _client(args: argparse.Namespace) -> Any:
    try:
        import dodopayments
    except ImportError:
        _err("needs Dodo's SDK: pip install 'segmap[backfill]' (or pip install dodopayments)")
        return None
    if not os.environ.get("DODO_PAYMENTS_API_KEY"):
        _err("set DODO_PAYMENTS_API_KEY to an API key of your Dodo account (Developer > API keys)")
        return None
    kwargs: dict[str, Any] = {"max_retries": 0}  # our own backoff honours Retry-After without the SDK's 60 s cap
    if args.mode:
        if os.environ.get("DODO_PAYMENTS_BASE_URL"):
            _err("DODO_PAYMENTS_BASE_URL is set: it chooses the API host, so --mode cannot; unset one of them")
            return None
        kwargs["environment"] = f"{args.mode}_mode"
    return dodopayments.DodoPayments(**kwargs)


def run(args: argparse.Namespace) -> int:
    from segmap.backfill.needs import diagnostics, plan_event
    from segmap.backfill.progress import Progress
    from segmap.backfill.resources import parse_only
    from segmap.backfill.runner import Backfill, Plan
    from segmap.delivery.outbox.store import FIRST_START_KEY
    from segmap.backfill.source import DodoSource, SourceError, iso
    from segmap.compiler.api import MappingError, compile_file
    from segmap.diagnostics.render import write_diagnostics

    for name, value, low, high in (("--page-size", args.page_size, 1, 100), ("--max-pages", args.max_pages, 1, 10**6),
                                   ("--concurrency", args.concurrency, 1, 64), ("--samples", args.samples, 0, 1000)):
        if not low <= value <= high:
            _err(f"{name} must be between {low} and {high}")
            return EXIT_USAGE
    if args.window <= 0 or args.max_rps < 0:
        _err("--window must be > 0 days and --max-rps >= 0 (0: unlimited)")
        return EXIT_USAGE
    try:
        resources = parse_only(args.only)
        since = parse_moment(args.since)
        until = parse_moment(args.until) if args.until else None
    except ValueError as exc:
        _err(str(exc) if "resource" in str(exc) else f"not a date: {exc} (use YYYY-MM-DD or ISO 8601)")
        return EXIT_USAGE
    from segmap.colour import use_colour

    colour = use_colour("auto", sys.stderr)
    try:
        mapping = compile_file(args.mapping)
    except MappingError as exc:
        write_diagnostics(exc.diagnostics, exc.sources, "text", sys.stderr, colour)
        _err(f"{args.mapping} has errors; fix them first (`segmap check {args.mapping}`)")
        return EXIT_PROBLEMS
    except OSError as exc:
        _err(f"cannot read {args.mapping}: {exc.strerror or exc}")
        return EXIT_USAGE

    store = None
    if not args.dry_run or until is None:
        from segmap.delivery.outbox import describe, open_store

        settings = resolve(args, "segmap backfill", {"db": args.db})
        if settings is None:
            return EXIT_USAGE
        db = settings.db
        try:
            store = open_store(db, create=not args.dry_run)
        except FileNotFoundError:
            if until is None:
                _err(f"no outbox database at {describe(db)}: start `segmap serve` once, or give --until "
                     "(e.g. --until now)")
                return EXIT_USAGE
        except Exception as exc:  # noqa: BLE001 - any store failure is an I/O problem for the user
            _err(f"cannot open the outbox {describe(db)}: {exc}")
            return EXIT_USAGE
    try:
        if until is None:
            first = store.get_state(FIRST_START_KEY) if store is not None else None
            if first is None:
                _err("`segmap serve` has never started on this database, so there is no boundary with live "
                     "webhooks: give --until (e.g. --until now, then start serve right away)")
                return EXIT_USAGE
            until = datetime.fromtimestamp(float(first), timezone.utc)
        if since >= until:
            _err(f"--since {iso(since)} is not before --until {iso(until)}")
            return EXIT_USAGE

        plan_calls = mapping.check.checked_plan().calls
        needs = {}
        for resource in resources:
            for event_type in sorted(set(resource.events.values())):
                if event_type in plan_calls and mapping.handles(event_type):
                    needs[event_type] = plan_event(event_type, resource, plan_calls[event_type],
                                                   business_id_given=bool(args.business_id))
        if not needs:
            _err(f"{args.mapping} maps none of the events a backfill of {', '.join(r.name for r in resources)} "
                 "produces; nothing to do (see docs/backfill.md for the table)")
            return EXIT_PROBLEMS
        unused = [r.name for r in resources if not any(ev in needs for ev in r.events.values())]
        if unused:
            resources = [r for r in resources if r.name not in unused]
            print(f"not reading {', '.join(unused)}: {args.mapping} maps none of their events", file=sys.stderr)
        problems = diagnostics(needs.values())
        if problems:
            write_diagnostics(problems, mapping.check.sources, "text", sys.stderr, colour)
            if not args.allow_missing:
                _err(f"{len(problems)} mapped value(s) cannot be filled from Dodo's API; guard them, or run with "
                     "--allow-missing to leave them absent")
                return EXIT_PROBLEMS
        client = _client(args)
        if client is None:
            return EXIT_USAGE
        progress = Progress(sys.stderr)
        source = DodoSource(client, page_size=args.page_size, max_rps=args.max_rps, on_wait=progress.wait)
        plan = Plan(since=since, until=until, resources=resources, needs=needs, business_id=args.business_id,
                    window=timedelta(days=args.window), max_pages=args.max_pages, concurrency=args.concurrency,
                    dry_run=args.dry_run, restart=args.restart, sample_limit=args.samples)
        print(f"backfill {iso(since)} .. {iso(until)} from {', '.join(r.name for r in resources)}: "
              + ", ".join(f"{ev} ({n.source})" for ev, n in needs.items()), file=sys.stderr)
        job = Backfill(plan, source, mapping, None if args.dry_run else store, progress=progress)
        try:
            tally = job.run()
        except SourceError as exc:
            progress.finish()
            _err(str(exc))
            return EXIT_USAGE
        progress.finish()
    finally:
        if store is not None:
            store.close()

    _summary(job, tally)
    return EXIT_PROBLEMS if tally.quarantined else EXIT_OK


def _summary(job: Any, tally: Any) -> None:
    from segmap.runtime.jsjson import dumps  # bodies print as JavaScript prints them, as delivered
    out = sys.stdout
    dry = job.plan.dry_run
    if job.skipped_done:
        print(f"already done for this range (cursor): {', '.join(job.skipped_done)} (--restart reads them again)",
              file=out)
    width = max([len("event type")] + [len(e) for e in tally.per_event])
    print(f"{'event type':<{width}}  envelopes  calls", file=out)
    for ev in sorted(tally.per_event):
        print(f"{ev:<{width}}  {tally.per_event[ev]:>9,}  {tally.calls_per_event[ev]:>5,}", file=out)
    skipped = sum(tally.skipped_state.values())
    print(f"{tally.objects:,} objects read, {tally.mapped:,} envelopes mapped, {tally.calls_queued:,} calls "
          f"{'would be queued' if dry else 'queued'}, {tally.duplicates:,} already queued before, "
          f"{tally.quarantined:,} quarantined, {skipped:,} skipped (no webhook ends in their state), "
          f"{sum(tally.unmapped.values()):,} not mapped; {job.source.requests:,} API requests "
          f"({tally.retrieved:,} retrieves) in {job.elapsed:.1f}s", file=out)
    busy = job.source.api_seconds + job.source.waited + tally.map_seconds + tally.store_seconds
    if busy > 0:
        print(f"time: Dodo API {100 * job.source.api_seconds / busy:.0f}% (waiting on limits "
              f"{100 * job.source.waited / busy:.0f}%), mapping {100 * tally.map_seconds / busy:.0f}%, "
              f"outbox {100 * tally.store_seconds / busy:.0f}%", file=out)
    if dry:
        for event_type, webhook_id, calls in tally.samples:
            print(dumps({"type": event_type, "webhook_id": webhook_id, "calls": calls}).decode(), file=out)
        print("dry run: nothing was queued", file=out)
    elif tally.quarantined:
        print("quarantined envelopes: `segmap outbox dead --quarantine`; replay them after fixing the mapping",
              file=out)
    else:
        print("deliver with `segmap serve` or `segmap outbox deliver`", file=out)
