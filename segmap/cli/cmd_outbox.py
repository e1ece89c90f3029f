"""`segmap outbox ...`: look into the delivery outbox, replay what failed, run the worker.

Exit codes follow the CLI-wide rule: 0 all good, 1 the outbox holds problems
(dead letters, an auth pause, envelopes still failing), 2 usage or I/O
errors (missing database, unreadable mapping file). The write key is read
from the environment by preference and is never printed or logged.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import datetime, timezone

from segmap.cli.settings_args import add_config_argument, resolve

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
WRITE_KEY_ENV = "SEGMENT_WRITE_KEY"  # the write key, like every setting, resolves through segmap.settings

_EPILOG = """\
examples:
  segmap outbox status                                          # segmap.db, or $SEGMAP_DB, or --db
  segmap outbox dead --db outbox.db --format json
  segmap outbox replay --db outbox.db --reason "HTTP 503"
  segmap outbox replay --db outbox.db --mapping segmap.yaml     # also re-run quarantined envelopes
  SEGMENT_WRITE_KEY=... SEGMENT_REGION=eu segmap outbox deliver
  segmap outbox deliver --db outbox.db --once                   # no key: dry run to a JSON-lines file
  segmap outbox held                                            # calls held back: dry-run and test traffic
  segmap outbox release dry-run                                 # send what a dry run accepted, after all
  segmap outbox discard test                                    # drop `segmap send` samples for good

settings (database, write key, region, host ...) resolve as for serve: flags > environment >
config file (--config, $SEGMAP_CONFIG) > defaults; `segmap config` shows them.

exit codes: 0 ok, 1 problems found (dead letters, paused delivery, envelopes still failing), 2 usage or I/O error
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "outbox",
        help="inspect the delivery outbox, replay failures, deliver to Segment",
        description="Inspect and operate the durable outbox between the webhook receiver and Segment.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="outbox_command", metavar="ACTION", parser_class=type(p))
    sub.required = True

    def db_arg(sp):
        sp.add_argument("--db", metavar="PATH|URL", default=None,
                        help="the outbox: a SQLite file or a postgresql:// URL (default segmap.db, or $SEGMAP_DB, "
                             "or db in the config file)")
        add_config_argument(sp)

    def filters(sp):
        sp.add_argument("--event-type", metavar="TYPE", help="only this Dodo event type (e.g. payment.succeeded)")
        sp.add_argument("--reason", metavar="SUBSTR", help="only dead letters whose reason contains SUBSTR (case-insensitive)")
        sp.add_argument("--since", metavar="WHEN", type=_parse_since,
                        help="only dead letters from WHEN on: an ISO-8601 time or an age like 90m, 6h, 2d")

    s = sub.add_parser("status", help="counts per state, oldest undelivered age, pause, last error; --check for monitoring",
                       description="Counts per state, age of the oldest undelivered call, the delivery pause and its "
                                   "reason, the last delivery error, quarantine. Exits 1 when something needs "
                                   "attention. Opens the database read-only: works on a full or read-only disk. "
                                   "With --check, exits 1 exactly when a documented threshold is passed (for cron "
                                   "and monitoring): delivery paused, oldest undelivered call older than "
                                   "--max-undelivered-age (15m), more than --max-dead dead letters (0), more than "
                                   "--max-quarantined open quarantined envelopes (0).")
    db_arg(s)
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.add_argument("--check", action="store_true", help="exit 1 past the thresholds below, 0 otherwise")
    s.add_argument("--max-undelivered-age", metavar="AGE", default=None,
                   help="--check fails when the oldest undelivered call is older (default 15m)")
    s.add_argument("--max-dead", type=int, metavar="N", default=None, help="--check fails above N dead letters (default 0)")
    s.add_argument("--max-quarantined", type=int, metavar="N", default=None,
                   help="--check fails above N open quarantined envelopes (default 0)")
    s.set_defaults(handler=cmd_status)

    u = sub.add_parser("resume", help="end a delivery pause now: probe at once instead of waiting",
                       description="Clear the recorded delivery pause (a refused write key or a wrong endpoint). "
                                   "Every running `segmap serve` / `segmap outbox deliver` on this database sees it "
                                   "within a second and sends one probe at once; a probe that is refused again "
                                   "pauses again. With a write key (SEGMENT_WRITE_KEY or --write-key) this command "
                                   "also sends that probe itself and says how it went.")
    db_arg(u)
    u.add_argument("--write-key", metavar="KEY",
                   help=f"probe with this key (prefer the {WRITE_KEY_ENV} environment variable)")
    u.add_argument("--region", choices=("us", "eu"), default=None, help="Segment region (default us, or $SEGMENT_REGION)")
    u.add_argument("--segment-host", "--host", dest="segment_host", metavar="URL", default=None,
                   help="custom API host (overrides --region; or $SEGMENT_HOST)")
    u.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="without a key: wait this long for a running worker's probe and report the outcome")
    u.set_defaults(handler=cmd_resume)

    d = sub.add_parser("dead", help="list dead letters with their reasons",
                       description="List dead-lettered calls with the reason each was given up on.")
    db_arg(d)
    filters(d)
    d.add_argument("--limit", type=int, metavar="N", help="show at most N")
    d.add_argument("--format", choices=("text", "json"), default="text")
    d.set_defaults(handler=cmd_dead)

    r = sub.add_parser("replay", help="re-queue dead letters; with --mapping re-run quarantined envelopes",
                       description="Put matching dead letters back in the queue with a fresh retry budget. With "
                                   "--mapping, also run every open quarantined envelope through that (fixed) mapping "
                                   "and queue the calls it produces, with the messageIds the first run would have used.")
    db_arg(r)
    filters(r)
    r.add_argument("--mapping", metavar="FILE", help="re-run quarantined envelopes through this mapping file")
    r.set_defaults(handler=cmd_replay)

    kinds = ("dry-run", "test", "all")
    h = sub.add_parser("held", help="list calls held back from Segment (dry-run and test traffic)",
                       description="List calls that are held: accepted during a dry run (no write key), or test "
                                   "traffic (posted by `segmap send`, or signed with the development secret). "
                                   "Delivery never sends them until they are released. Exit 1 when any are held.")
    db_arg(h)
    h.add_argument("kind", nargs="?", choices=kinds, default="all", help="which held calls (default all)")
    h.add_argument("--limit", type=int, metavar="N", help="show at most N")
    h.add_argument("--format", choices=("text", "json"), default="text")
    h.set_defaults(handler=cmd_held)
    for name, verb, text in (
        ("release", "release", "send held calls to Segment after all: they become pending and are delivered "
                               "by the next live delivery (serve with a write key, or `outbox deliver`)"),
        ("discard", "discard", "delete held calls: they are never sent (the webhooks stay in the inbox, so a "
                               "redelivery is still recognised as a duplicate)"),
    ):
        a = sub.add_parser(name, help=f"{verb} held calls (dry-run or test traffic)",
                           description=text[0].upper() + text[1:] + ". KIND is required: the decision is explicit.")
        db_arg(a)
        a.add_argument("kind", choices=kinds, help="dry-run: accepted without a write key; test: sent by "
                                                  "`segmap send` or signed with the development secret; all: both")
        a.add_argument("--webhook-id", action="append", metavar="ID", default=None,
                       help="only the calls of this webhook (repeatable)")
        a.set_defaults(handler=cmd_release if name == "release" else cmd_discard)

    v = sub.add_parser("deliver", help="run the delivery worker (or a dry run without a write key)",
                       description="Deliver pending calls to Segment's /v1/batch until stopped (Ctrl-C / SIGTERM "
                                   "release the leases). Without a write key nothing is sent: the calls that would be "
                                   "sent are written to a JSON-lines file and the outbox is left unchanged.")
    db_arg(v)
    v.add_argument("--write-key", metavar="KEY",
                   help=f"Segment write key (prefer the {WRITE_KEY_ENV} environment variable: arguments show in ps)")
    v.add_argument("--region", choices=("us", "eu"), default=None,
                   help="Segment region of the workspace (default us, or $SEGMENT_REGION)")
    v.add_argument("--segment-host", "--host", dest="segment_host", metavar="URL", default=None,
                   help="custom API host, e.g. a proxy (overrides --region; or $SEGMENT_HOST)")
    v.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    v.add_argument("--workers", type=int, default=None, metavar="N", help="delivery threads (default 2)")
    v.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="HTTP read timeout (default 15)")
    v.add_argument("--no-gzip", action="store_true", help="send uncompressed request bodies")
    v.add_argument("--retry-budget", type=_parse_duration, default=None, metavar="AGE",
                   help="give a call up (dead letter) this long after its first failed attempt (default 24h)")
    v.add_argument("--dry-run-file", metavar="PATH", default=None,
                   help="where a dry run writes (default segmap-dry-run.jsonl; - for stdout)")
    v.add_argument("--probe-first", metavar="SECONDS", default=None,
                   help="while paused, the first one-message probe after this long (default 5s)")
    v.add_argument("--probe-max", metavar="SECONDS", default=None,
                   help="the wait between probes doubles up to this (default 5m)")
    v.add_argument("-v", "--verbose", action="store_true", help="log every attempt")
    v.set_defaults(handler=cmd_deliver)


# --- argument helpers ---

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def _parse_duration(text: str) -> float:
    m = _DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 30s, 90m, 6h, 2d)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _parse_since(text: str) -> float:
    import time

    if _DURATION.match(text):
        return time.time() - _parse_duration(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time or an age: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _iso(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    parts.append(f"{seconds}s")
    return "".join(parts[:2])


def _err(msg: str) -> None:
    print(f"segmap outbox: {msg}", file=sys.stderr)


def _settings(args, **flags):
    return resolve(args, "segmap outbox", {"db": getattr(args, "db", None), **flags}, {"segment_timeout": "--timeout"})


def _open(path: str, *, readonly: bool = False):
    """Open an existing outbox; None (after saying why) when it is not there or not one.
    `readonly`: SQLite's mode=ro, for the commands that only look (they must work on a full or
    read-only disk, which is when an operator needs them)."""
    import sqlite3

    from segmap.delivery.outbox import describe, open_store

    try:
        if readonly:
            return open_store(path, create=False, readonly=True)
        return open_store(path, create=False)
    except FileNotFoundError:
        _err(f"no outbox database at {describe(path)}")
    except (ValueError, PermissionError, sqlite3.Error, RuntimeError) as exc:
        _err(f"cannot open {describe(path)}: {exc}")
    return None


# --- commands ---

def status_checks(st, *, now: float, max_age: float, max_dead: int, max_quarantined: int) -> list[str]:
    """The thresholds `status --check` applies; each failed one as a sentence (empty: all good)."""
    failed = []
    if st.paused is not None:
        failed.append(f"delivery is paused: {st.paused.reason}")
    if st.oldest_pending_age is not None and st.oldest_pending_age > max_age:
        failed.append(f"the oldest undelivered call is {_age(st.oldest_pending_age)} old (limit {_age(max_age)})")
    if st.counts.get("dead", 0) > max_dead:
        failed.append(f"{st.counts['dead']} dead letter(s) (limit {max_dead})")
    if st.quarantined_open > max_quarantined:
        failed.append(f"{st.quarantined_open} quarantined envelope(s) open (limit {max_quarantined})")
    return failed


def cmd_status(args) -> int:
    import time

    import orjson

    from segmap.delivery.outbox import describe

    settings = _settings(args, max_undelivered_age=args.max_undelivered_age, max_dead=args.max_dead,
                         max_quarantined=args.max_quarantined)
    if settings is None:
        return EXIT_USAGE
    args.db = settings.db
    store = _open(args.db, readonly=True)
    if store is None:
        return EXIT_USAGE
    with store:
        st = store.status()
        stale = bool(getattr(store, "stale_wal", False))
    now = time.time()
    failed = status_checks(st, now=now, max_age=settings.max_undelivered_age, max_dead=settings.max_dead,
                           max_quarantined=settings.max_quarantined)
    err = st.last_error
    if args.format == "json":
        out = {
            "db": describe(args.db),
            "counts": st.counts,
            "oldest_pending_age_seconds": st.oldest_pending_age,
            "next_attempt_at": _iso(st.next_attempt_at) if st.next_attempt_at else None,
            "paused": None if st.paused is None else {"reason": st.paused.reason, "since": _iso(st.paused.since),
                                                      "kind": _pause_kind(st.paused.reason)},
            "last_error": None if err is None else {"error": err.error, "at": _iso(err.at),
                                                    "failing_since": _iso(err.failing_since) if err.failing_since else None},
            "quarantined_open": st.quarantined_open,
            "inbox": st.inbox,
            "held": st.held,
            "stale": stale,
            "check": {"ok": not failed, "failed": failed,
                      "thresholds": {"max_undelivered_age_seconds": settings.max_undelivered_age,
                                     "max_dead": settings.max_dead, "max_quarantined": settings.max_quarantined}},
        }
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(f"outbox {describe(args.db)}")
        if stale:
            print("(read-only directory: the database was opened without its WAL file; the most recent "
                  "changes may be missing)")
        for state in ("pending", "in_flight", "delivered", "dead"):
            print(f"  {state:<10} {st.counts[state]:>10}")
        print(f"oldest undelivered call: {_age(st.oldest_pending_age)}")
        if st.counts["pending"] > sum(st.held.values()):  # held calls have no next attempt
            due = st.next_attempt_at
            print(f"next attempt: {'due now' if due is None or due <= now else 'in ' + _age(due - now)}")
        print(f"quarantined envelopes (open): {st.quarantined_open}")
        for hold, n in st.held.items():
            kind = hold.replace("_", "-")
            print(f"HELD ({_HOLD_TEXT.get(hold, hold)}): {n} call(s), not sent until "
                  f"`segmap outbox release {kind}` (or `segmap outbox discard {kind}`)")
        print(f"webhooks in inbox: {st.inbox}")
        if err is None:
            print("last delivery error: none")
        else:
            streak = (f"failing for {_age(now - err.failing_since)}" if err.failing_since is not None
                      else "delivered since")
            print(f"last delivery error: {_age(now - err.at)} ago ({streak}): {err.error}")
        if st.paused is None:
            print("delivery: not paused")
        else:
            print(f"delivery: PAUSED since {_iso(st.paused.since)} ({_age(now - st.paused.since)}): {st.paused.reason}")
            print("  fix it, then `segmap outbox resume` (running services probe at once)")
        if args.check:
            if failed:
                for f in failed:
                    print(f"CHECK FAILED: {f}")
            else:
                print("check: ok")
    if args.check:
        return EXIT_PROBLEMS if failed else EXIT_OK
    problems = st.paused is not None or st.counts["dead"] > 0 or st.quarantined_open > 0 or bool(st.held)
    return EXIT_PROBLEMS if problems else EXIT_OK


def _pause_kind(reason: str) -> str:
    return "auth" if "write key" in reason else "endpoint"


def cmd_resume(args) -> int:
    import time

    settings = _settings(args, write_key=args.write_key, region=args.region, segment_host=args.segment_host)
    if settings is None:
        return EXIT_USAGE
    args.db = settings.db
    store = _open(args.db)
    if store is None:
        return EXIT_USAGE
    with store:
        paused = store.paused()
        if paused is None:
            print("delivery is not paused")
            return EXIT_OK
        key = settings.write_key_value()
        if key:
            return _probe_here(store, settings, key, paused)
        store.set_paused(None)
        print(f"pause cleared (was: {paused.reason}); running workers send a probe within a second")
        if args.wait <= 0:
            return EXIT_OK
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            again = store.paused()
            if again is not None:
                print(f"the probe was refused; delivery is PAUSED again: {again.reason}")
                return EXIT_PROBLEMS
            time.sleep(0.2)
        print(f"no new pause within {args.wait:g}s")
        return EXIT_OK


def _probe_here(store, settings, key: str, paused) -> int:
    """Send the probe from this process: one due call, with the given key, to the configured host."""
    import logging

    from segmap.delivery.retry import RetryPolicy
    from segmap.delivery.segment_client import SegmentClient
    from segmap.delivery.worker import Delivery, DeliveryConfig

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    client = SegmentClient(key, region=settings.region, host=settings.segment_host)
    try:
        delivery = Delivery(store, client, DeliveryConfig(workers=1, policy=RetryPolicy()))
        outcome = delivery.probe_once(paused)
    finally:
        client.close()
    if outcome is None:
        store.set_paused(None)
        print(f"nothing to probe with (no call is due); pause cleared (was: {paused.reason})")
        return EXIT_OK
    if outcome:
        print(f"probe delivered: Segment accepts the requests again; delivery resumed (was: {paused.reason})")
        return EXIT_OK
    now_paused = store.paused()
    reason = now_paused.reason if now_paused is not None else delivery.stats().last_error
    print(f"probe failed; delivery stays paused: {reason}")
    return EXIT_PROBLEMS


def cmd_dead(args) -> int:
    import orjson

    settings = _settings(args)
    if settings is None:
        return EXIT_USAGE
    args.db = settings.db
    store = _open(args.db, readonly=True)
    if store is None:
        return EXIT_USAGE
    with store:
        dead = store.list_dead(event_type=args.event_type, reason=args.reason, since=args.since, limit=args.limit)
    if args.format == "json":
        rows = [{"id": d.id, "webhook_id": d.webhook_id, "index": d.index, "message_id": d.message_id, "call": d.call,
                 "event_type": d.event_type, "reason": d.reason, "attempts": d.attempts, "dead_at": _iso(d.dead_at),
                 "replayable": d.replayable, "origin": d.origin} for d in dead]
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif not dead:
        print("no dead letters")
    else:
        for d in dead:
            flag = "" if d.replayable else "  [not replayable: fix the mapping]"
            print(f"#{d.id}  {_iso(d.dead_at)}  {d.event_type}  {d.call}  {d.message_id}  attempts={d.attempts}{flag}")
            print(f"    {d.reason}")
            if d.origin:
                print(f"    from {d.origin}")
        print(f"{len(dead)} dead letter(s)")
    return EXIT_PROBLEMS if dead else EXIT_OK


def cmd_replay(args) -> int:
    import orjson

    settings = _settings(args)
    if settings is None:
        return EXIT_USAGE
    args.db = settings.db
    store = _open(args.db)
    if store is None:
        return EXIT_USAGE
    status = EXIT_OK
    with store:
        mapping = None
        if args.mapping:
            mapping, code = _load_mapping(args.mapping)
            if mapping is None:
                return code
        matching = store.list_dead(event_type=args.event_type, reason=args.reason, since=args.since)
        stuck = [d for d in matching if not d.replayable]
        requeued = store.replay_dead(event_type=args.event_type, reason=args.reason, since=args.since)
        print(f"re-queued {requeued} dead letter(s)")
        if stuck:
            status = EXIT_PROBLEMS
            print(f"left {len(stuck)} dead letter(s) that cannot be sent as stored (invalid content); "
                  "fix the mapping and re-send those webhooks")
        if mapping is not None:
            envelopes = [q for q in store.list_quarantine(event_type=args.event_type)
                         if args.reason is None or args.reason.lower() in q.error.lower()]
            resolved = queued = 0
            for q in envelopes:
                try:
                    envelope = orjson.loads(q.raw_body)
                except orjson.JSONDecodeError as exc:
                    store.record_quarantine_failure(q.id, f"body is not JSON: {exc}")
                    print(f"quarantine #{q.id} {q.webhook_id}: body is not JSON", file=sys.stderr)
                    continue
                try:
                    calls = mapping.apply(envelope)
                except Exception as exc:  # noqa: BLE001 - any mapping failure keeps the envelope quarantined
                    where = str(getattr(exc, "location", "") or "")
                    store.record_quarantine_failure(q.id, f"{type(exc).__name__}: {exc}", where)
                    print(f"quarantine #{q.id} {q.webhook_id} ({q.event_type}): still failing: "
                          f"{type(exc).__name__}: {exc}", file=sys.stderr)
                    continue
                res = store.resolve_quarantine(q.id, list(calls))
                if res.new:
                    resolved += 1
                    queued += res.queued
                    if res.dead:
                        print(f"quarantine #{q.id} {q.webhook_id}: {res.dead} call(s) dead-lettered (invalid content)",
                              file=sys.stderr)
            failing = len(envelopes) - resolved
            print(f"quarantined envelopes: {len(envelopes)} re-run, {resolved} resolved ({queued} call(s) queued), "
                  f"{failing} still failing")
            if failing:
                status = EXIT_PROBLEMS
    return status


_HOLD_TEXT = {"dry_run": "accepted during a dry run", "test": "test traffic"}


def _hold(kind: str) -> str | None:
    return None if kind == "all" else kind.replace("-", "_")


def cmd_held(args) -> int:
    import orjson

    settings = _settings(args)
    if settings is None:
        return EXIT_USAGE
    store = _open(settings.db)
    if store is None:
        return EXIT_USAGE
    with store:
        rows = store.list_held(hold=_hold(args.kind), limit=args.limit)
        counts = store.held_counts()
    if args.format == "json":
        out = {"counts": counts, "calls": [
            {"id": r.id, "webhook_id": r.webhook_id, "index": r.index, "event_type": r.event_type, "call": r.call,
             "message_id": r.message_id, "hold": r.hold, "created_at": _iso(r.created_at)} for r in rows]}
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif not counts:
        print("no held calls")
    else:
        for r in rows:
            print(f"#{r.id}  {_iso(r.created_at)}  {r.hold}  {r.event_type}  {r.call}  {r.webhook_id}")
        for hold, n in counts.items():
            kind = hold.replace("_", "-")
            print(f"{n} held call(s) {_HOLD_TEXT.get(hold, hold)}: `segmap outbox release {kind}` sends them, "
                  f"`segmap outbox discard {kind}` drops them")
    return EXIT_PROBLEMS if counts else EXIT_OK


def cmd_release(args) -> int:
    return _decide(args, release=True)


def cmd_discard(args) -> int:
    return _decide(args, release=False)


def _decide(args, *, release: bool) -> int:
    settings = _settings(args)
    if settings is None:
        return EXIT_USAGE
    store = _open(settings.db)
    if store is None:
        return EXIT_USAGE
    with store:
        fn = store.release_held if release else store.discard_held
        n = fn(hold=_hold(args.kind), webhook_ids=args.webhook_id)
        left = sum(store.held_counts().values())
    if release:
        print(f"released {n} held call(s): the next live delivery sends them; {left} still held")
    else:
        print(f"discarded {n} held call(s): they will never be sent; {left} still held")
    return EXIT_OK


def _load_mapping(path: str):
    """(mapping, 0) or (None, exit code). Goes through segmap.compile_file so that the
    replayed calls are exactly what the webhook service would produce."""
    import segmap

    if not os.path.isfile(path):
        _err(f"no mapping file at {path}")
        return None, EXIT_USAGE
    try:
        return segmap.compile_file(path), EXIT_OK
    except (ImportError, AttributeError) as exc:
        _err(f"the mapping compiler is not available: {exc}")
        return None, EXIT_USAGE
    except OSError as exc:
        _err(f"cannot read {path}: {exc}")
        return None, EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - MappingError and friends: the mapping has problems
        _err(f"{path} does not compile:\n{exc}")
        return None, EXIT_PROBLEMS


def cmd_deliver(args) -> int:
    import logging
    import signal
    import threading

    import httpx

    from segmap.delivery.worker import Delivery, DeliveryConfig, preview
    from segmap.delivery.retry import RetryPolicy
    from segmap.delivery.segment_client import SegmentClient
    from segmap.delivery.sinks import DryRunSink

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = _settings(args, write_key=args.write_key, region=args.region, segment_host=args.segment_host,
                         workers=args.workers, segment_timeout=args.timeout, retry_budget=args.retry_budget,
                         dry_run_file=args.dry_run_file, probe_first=args.probe_first, probe_max=args.probe_max)
    if settings is None:
        return EXIT_USAGE
    args.db = settings.db
    store = _open(args.db)
    if store is None:
        return EXIT_USAGE
    key = settings.write_key_value() or ""
    args.dry_run_file, args.workers, args.retry_budget = settings.dry_run_file, settings.workers, settings.retry_budget
    timeout = settings.segment_timeout
    with store:
        if not key:
            target = sys.stdout.buffer if args.dry_run_file == "-" else args.dry_run_file
            where = "stdout" if args.dry_run_file == "-" else args.dry_run_file
            print(f"segmap outbox: no write key (--write-key or {WRITE_KEY_ENV}): DRY RUN, nothing is sent; "
                  f"writing what would be sent to {where}; the outbox is not changed", file=sys.stderr)
            try:
                sink = DryRunSink(target)
            except OSError as exc:
                _err(f"cannot write {where}: {exc}")
                return EXIT_USAGE
            try:
                n = preview(store, sink)
            finally:
                sink.close()
            print(f"dry run: {n} call(s) written to {where}", file=sys.stderr)
            return EXIT_OK

        held = store.held_counts()
        if held:
            print(f"segmap outbox: {sum(held.values())} held call(s) are not sent "
                  "(see `segmap outbox held`; `segmap outbox release KIND` to send them)", file=sys.stderr)
        client = SegmentClient(key, region=settings.region, host=settings.segment_host, gzip=not args.no_gzip,
                               timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)))
        config = DeliveryConfig(workers=args.workers, policy=RetryPolicy(
            budget_seconds=args.retry_budget, probe_first=settings.probe_first, auth_probe_interval=settings.probe_max))
        delivery = Delivery(store, client, config)
        before_dead = store.counts()["dead"]
        try:
            if args.once:
                delivery.deliver_due()
            else:
                stop = threading.Event()
                previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
                print(f"segmap outbox: delivering to {client.endpoint} with {args.workers} worker(s); "
                      "Ctrl-C to stop", file=sys.stderr)
                delivery.start()
                try:
                    stop.wait()
                finally:
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)
                    print("segmap outbox: stopping, giving back unsent calls", file=sys.stderr)
                    delivery.stop(timeout=10.0)
        finally:
            client.close()
        stats = delivery.stats()
        counts = store.counts()
        print(f"delivered {stats.delivered} call(s) in {stats.requests} request(s); "
              f"{stats.retried} put back for retry; {stats.dead} dead-lettered; "
              f"now pending {counts['pending']}, dead {counts['dead']}", file=sys.stderr)
        if delivery.paused is not None:
            print(f"segmap outbox: DELIVERY PAUSED: {delivery.paused.reason}", file=sys.stderr)
            return EXIT_PROBLEMS
        if counts["dead"] > before_dead:
            return EXIT_PROBLEMS
        if args.once and stats.retried:
            return EXIT_PROBLEMS
    return EXIT_OK
