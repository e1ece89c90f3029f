"""`segmap send`: sign a webhook like Dodo does and POST it to a running `segmap serve`.

Everything it posts is marked as test traffic (header `segmap-test-traffic`): the
service holds the resulting calls, so sample data never reaches a live Segment
source unless someone runs `segmap outbox release test`.

Exit codes: 0 every request got a 2xx, 1 some got another status, 2 usage
errors, no usable secret, or the service could not be reached.
"""
from __future__ import annotations

import argparse
import sys

from segmap.cli.settings_args import add_config_argument, resolve

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

_EPILOG = """\
every request is marked as test traffic: the service HOLDS its calls (they are not sent to
Segment, even with a write key) until `segmap outbox release test`; `segmap outbox discard test`
drops them.

examples:
  segmap send payment.succeeded                       # a sample envelope, signed, to 127.0.0.1:8000
  segmap send --file webhook.json --url http://127.0.0.1:9000/webhook
  segmap send subscription.active --repeat 3 --id msg_same   # the same webhook id three times (dedup)

the secret: --secret, else DODO_WEBHOOK_SECRET (its first secret), else webhook_secrets in the
config file (--config, $SEGMAP_CONFIG), else the development secret that `segmap serve` keeps in
segmap-dev-secret beside its database (--db, $SEGMAP_DB).
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "send",
        help="sign a sample (or given) webhook and POST it to a running segmap serve",
        description="Sign a webhook envelope with Standard Webhooks headers (webhook-id, webhook-timestamp, "
                    "webhook-signature) exactly as Dodo does, POST it, and print the answer.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("event_type", nargs="?", metavar="EVENT_TYPE", help="send a sample envelope of this type")
    p.add_argument("--file", metavar="PATH", help="send this file's bytes as the body instead (- for stdin)")
    p.add_argument("--variant", type=int, default=0, metavar="N", help="sample variant (default 0)")
    p.add_argument("--url", default=None, help="default http://127.0.0.1:8000/webhook, or $SEGMAP_URL")
    p.add_argument("--secret", metavar="WHSEC", help="signing secret (prefer DODO_WEBHOOK_SECRET)")
    p.add_argument("--db", metavar="PATH", default=None,
                   help="database of the service, to find its development secret (default segmap.db)")
    p.add_argument("--id", metavar="WEBHOOK_ID", help="webhook id (default: a fresh msg_send_... per request)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="send N times (default 1)")
    p.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS", help="HTTP timeout (default 15, as Dodo)")
    add_config_argument(p)
    p.set_defaults(handler=run)


def _err(msg: str) -> None:
    print(f"segmap send: {msg}", file=sys.stderr)


def _resolve_secret(settings) -> str | None:
    """The same order as `segmap serve`: the configured secret(s) (flag, DODO_WEBHOOK_SECRET,
    DODO_PAYMENTS_WEBHOOK_KEY, config file), else the development secret beside the database."""
    from segmap.service.config import dev_secret_path, read_dev_secret

    given = settings.secret_values()
    if given:
        return given[0]
    return read_dev_secret(dev_secret_path(settings.db))


def run(args: argparse.Namespace) -> int:
    import secrets as _secrets
    import time

    import httpx
    import orjson

    from segmap.service.verification import InvalidSecret, decode_secret, sign

    if bool(args.event_type) == bool(args.file):
        _err("give an EVENT_TYPE for a sample envelope, or --file PATH")
        return EXIT_USAGE
    if args.repeat < 1:
        _err("--repeat must be >= 1")
        return EXIT_USAGE
    if args.id is not None and (not args.id or not args.id.isascii() or not args.id.isprintable()):
        _err("--id must be printable ASCII (it is sent as the webhook-id header)")
        return EXIT_USAGE
    if args.file:
        try:
            body = sys.stdin.buffer.read() if args.file == "-" else open(args.file, "rb").read()
        except OSError as exc:
            _err(f"cannot read {args.file}: {exc.strerror or exc}")
            return EXIT_USAGE
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            _err(f"{args.file} is not UTF-8 text; Standard Webhooks signs text")
            return EXIT_USAGE
    else:
        from segmap.samples import UnknownEventType, sample_envelope

        try:
            body = orjson.dumps(sample_envelope(args.event_type, variant=args.variant))
        except UnknownEventType as exc:
            _err(str(exc))
            return EXIT_USAGE
    settings = resolve(args, "segmap send", {"webhook_secrets": [args.secret] if args.secret else None,
                                             "db": args.db, "url": args.url}, {"webhook_secrets": "--secret"})
    if settings is None:
        return EXIT_USAGE
    url = settings.url
    secret = _resolve_secret(settings)
    if not secret:
        _err("no signing secret: pass --secret, set DODO_WEBHOOK_SECRET, or start `segmap serve` first "
             "(it keeps a development secret in segmap-dev-secret beside its database)")
        return EXIT_USAGE
    try:
        decode_secret(secret)
    except InvalidSecret as exc:
        _err(f"the secret is unusable: {exc}")
        return EXIT_USAGE

    status = EXIT_OK
    with httpx.Client(timeout=args.timeout) as client:
        for _ in range(args.repeat):
            webhook_id = args.id or f"msg_send_{_secrets.token_hex(10)}"
            ts = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(ts),
                "webhook-signature": sign(secret, webhook_id, ts, body),
                # test traffic: `segmap serve` holds these calls until `segmap outbox release test`
                "segmap-test-traffic": "1",
            }
            try:
                resp = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                _err(f"cannot reach {url}: {type(exc).__name__}: {exc}")
                return EXIT_USAGE
            print(f"{resp.status_code} {webhook_id} {resp.text.strip()}")
            if not 200 <= resp.status_code < 300:
                status = EXIT_PROBLEMS
    return status
