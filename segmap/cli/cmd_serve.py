"""`segmap serve MAPPING`: receive Dodo webhooks, store them durably, deliver to Segment.

Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 the mapping does not
compile, 2 configuration or I/O problems (bad secret, unusable database, port
in use), 70 the shutdown watchdog had to end the process.
"""
from __future__ import annotations

import argparse
import sys

from segmap.cli.settings_args import add_config_argument

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

_EPILOG = """\
environment:
  SEGMENT_WRITE_KEY       Segment write key; without it: dry run (nothing sent, calls written to
                          --dry-run-file and kept pending in the outbox)
  DODO_WEBHOOK_SECRET     webhook signing secret(s), whsec_..., comma or space separated (rotation);
                          DODO_PAYMENTS_WEBHOOK_KEY is read when it is unset. Without any secret a
                          development secret is generated and kept in segmap-dev-secret beside the
                          database: only `segmap send` (or anyone with that file) can sign requests
  SEGMENT_REGION          us (default) or eu          SEGMENT_HOST   custom Segment API host
  SEGMAP_DB               database path (default segmap.db)
  SEGMAP_CONFIG           a TOML file of settings; every setting, its variable and its flag: `segmap config`

signals: SIGTERM/SIGINT graceful stop (within --shutdown-timeout), SIGHUP reload the mapping
endpoints: POST /webhook and GET /healthz on --port (public); GET /metrics, /readyz, /healthz on the
           admin listener, --admin-host (127.0.0.1) : --admin-port (the port + 1)   (see docs/serve.md)
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the webhook receiver: verify, store durably, deliver to Segment",
        description="Serve POST /webhook: verify Standard Webhooks signatures, run the mapping, commit the "
                    "webhook and its Segment calls to the outbox (SQLite, durable) before answering 2xx, and "
                    "deliver the calls to Segment in the background.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("mapping", metavar="MAPPING", help="the mapping file (e.g. segmap.yaml)")
    p.add_argument("--host", default=None, help="listen address (default 127.0.0.1, or $SEGMAP_HOST)")
    p.add_argument("--port", type=int, default=None, help="listen port (default 8000; 0 picks a free one)")
    p.add_argument("--db", metavar="PATH", default=None, help="outbox database (default segmap.db, or $SEGMAP_DB)")
    p.add_argument("--secret", action="append", metavar="WHSEC", default=None,
                   help="webhook signing secret; repeat for rotation (prefer DODO_WEBHOOK_SECRET: arguments show in ps)")
    p.add_argument("--region", choices=("us", "eu"), default=None, help="Segment region (default us, or $SEGMENT_REGION)")
    p.add_argument("--segment-host", metavar="URL", default=None, help="custom Segment API host (overrides --region)")
    p.add_argument("--dry-run-file", metavar="PATH", default=None,
                   help="where a dry run writes the calls (default segmap-dry-run.jsonl)")
    p.add_argument("--max-body", metavar="SIZE", default=None, help="largest webhook body accepted (default 1MiB)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="delivery threads (default 2)")
    p.add_argument("--lease", type=float, default=None, metavar="SECONDS",
                   help="how long a delivery worker owns the calls it claimed; after a crash, the calls that were "
                        "in flight are sent again once this has passed (default 120)")
    p.add_argument("--commit-linger", metavar="DURATION", default=None,
                   help="once webhooks arrive concurrently, collect them this long before one durable commit: "
                        "fewer fsyncs and less CPU per webhook for up to this much latency (default 2ms; 0: never)")
    p.add_argument("--shutdown-timeout", type=float, default=None, metavar="SECONDS",
                   help="SIGTERM to exit, at most (default 10)")
    p.add_argument("--admin-host", default=None,
                   help="address of the admin listener for /metrics and the detailed /readyz (default 127.0.0.1)")
    p.add_argument("--admin-port", type=int, default=None,
                   help="admin listener port (default: --port + 1, or 0 with --port 0; -1: no admin listener)")
    p.add_argument("--probe-first", metavar="SECONDS", default=None,
                   help="while delivery is paused, the first one-message probe after this long (default 5s)")
    p.add_argument("--probe-max", metavar="SECONDS", default=None,
                   help="the wait between probes doubles up to this (default 5m)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=None)
    p.add_argument("--log-format", choices=("auto", "json", "text"), default=None,
                   help="auto (default): human-readable text on a terminal, JSON lines otherwise")
    add_config_argument(p)
    p.add_argument("--print-config", action="store_true",
                   help="print the effective settings (secrets masked) and exit; same as `segmap config`")
    p.set_defaults(handler=run)


def _err(msg: str) -> None:
    print(f"segmap serve: {msg}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import signal
    import sqlite3

    if hasattr(signal, "SIGHUP"):  # a reload request during start-up must not kill the process
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    from segmap.cli.settings_args import resolve
    from segmap.service import logs
    from segmap.service.config import ConfigError, build_config
    from segmap.service.lifecycle import MappingLoadError, Service
    from segmap.service.server import ListenError, bind, serve

    flags = {"host": args.host, "port": args.port, "db": args.db, "webhook_secrets": args.secret,
             "region": args.region, "segment_host": args.segment_host, "dry_run_file": args.dry_run_file,
             "max_body": args.max_body, "workers": args.workers, "lease": args.lease,
             "commit_linger": args.commit_linger, "shutdown_timeout": args.shutdown_timeout,
             "log_level": args.log_level, "log_format": args.log_format,
             "admin_host": args.admin_host, "admin_port": args.admin_port, "probe_first": args.probe_first,
             "probe_max": args.probe_max}
    labels = {"webhook_secrets": "--secret"}
    if args.print_config:
        from segmap.cli.cmd_config import print_settings

        return print_settings(args, flags, labels, prog="segmap serve")
    settings = resolve(args, "segmap serve", flags, labels)
    if settings is None:
        return EXIT_USAGE
    try:
        config = build_config(args.mapping, settings)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_USAGE

    redactor = logs.Redactor()
    for s in config.secrets:
        redactor.add_secret(s)
    if config.write_key:
        redactor.add_write_key(config.write_key)
    logs.configure(config.log_level, redactor=redactor, fmt=logs.choose_format(settings.log_format, sys.stderr))

    service = Service(config)
    try:
        service.open()
    except MappingLoadError as exc:
        _print_diagnostics(exc)
        return EXIT_PROBLEMS
    except (OSError, sqlite3.Error, ValueError, RuntimeError) as exc:
        from segmap.delivery.outbox import describe

        _err(f"cannot open the outbox database {describe(config.db_path)}: {exc}")
        return EXIT_USAGE
    store = service.store
    assert store is not None  # open() succeeded
    admin_port = config.admin_port_resolved
    if admin_port is not None and admin_port != 0 and admin_port == config.port:
        _err(f"--admin-port {admin_port} is the webhook port; the admin listener needs a port of its own")
        store.close()
        return EXIT_USAGE
    try:
        sock = bind(config.host, config.port)
    except ListenError as exc:
        _err(str(exc))
        store.close()
        return EXIT_USAGE
    admin_sock = None
    if admin_port is not None:
        try:
            admin_sock = bind(config.admin_host, admin_port)
        except ListenError as exc:
            _err(f"admin listener: {exc} (--admin-port -1 runs without one)")
            sock.close()
            store.close()
            return EXIT_USAGE
    if config.dev_secret_file is not None and sys.stderr.isatty():  # config.dev_secret
        # only to a terminal: a human is watching; never into a log pipeline
        from segmap.service.config import read_dev_secret

        print(f"\n  DEVELOPMENT webhook secret (no DODO_WEBHOOK_SECRET set): {read_dev_secret(config.dev_secret_file)}\n"
              f"  kept in {config.dev_secret_file}; sign test requests with it, e.g. "
              f"`segmap send payment.succeeded`.\n  Real Dodo webhooks are refused until the Dodo secret is "
              f"configured.\n", file=sys.stderr, flush=True)
    return serve(service, sock, admin_sock)


def _print_diagnostics(exc) -> None:
    diags = getattr(exc, "diagnostics", None)
    if diags:
        try:
            from segmap.compiler.api import read_mapping_text
            from segmap.diagnostics.model import SourceMap
            from segmap.diagnostics.render import render_summary, render_text

            text, name = read_mapping_text(diags[0].span.file if diags[0].span else "")
            sources = SourceMap({name: text})
            for d in diags:
                print(render_text(d, sources), file=sys.stderr)
            print(render_summary(diags), file=sys.stderr)
        except Exception:  # noqa: BLE001 - fall back to the one-line message
            pass
    _err(f"{exc}; not starting")
