"""The service's resolved configuration, built from the one settings model.

Which value wins (flag, environment, config file, default) is decided in
`segmap.settings`; this module turns those settings into the frozen
`ServiceConfig` the service runs with, and adds what only the service does:
the generated development secret when no real one is configured.

Secrets and the write key are kept out of `repr()` so that a config object
can be logged or shown in a traceback without leaking them.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from segmap.settings import Settings, parse_size, split_secrets  # noqa: F401 - re-exported for callers
from segmap.service.verification import InvalidSecret, decode_secret, generate_secret
from segmap.errors import SegmapError

SECRET_ENV = "DODO_WEBHOOK_SECRET"
SDK_SECRET_ENV = "DODO_PAYMENTS_WEBHOOK_KEY"  # the name Dodo's own SDK reads
WRITE_KEY_ENV = "SEGMENT_WRITE_KEY"
REGION_ENV = "SEGMENT_REGION"
SEGMENT_HOST_ENV = "SEGMENT_HOST"
DB_ENV = "SEGMAP_DB"
DEV_SECRET_FILE = "segmap-dev-secret"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DB = "segmap.db"
DEFAULT_DRY_RUN_FILE = "segmap-dry-run.jsonl"
DEFAULT_MAX_BODY = 1024 * 1024


class ConfigError(ValueError, SegmapError):
    """A setting is unusable; the message says which one (never its secret value)."""


@dataclass(frozen=True)
class ServiceConfig:
    mapping_path: Path
    secrets: tuple[str, ...] = field(repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db_path: Path | str = Path(DEFAULT_DB)  # a SQLite file, or a postgresql:// URL (see outbox.db_target)
    write_key: str | None = field(default=None, repr=False)
    region: str = "us"
    segment_host: str | None = None
    dev_secret_file: Path | None = None  # set when running on a generated development secret
    dry_run_file: Path = Path(DEFAULT_DRY_RUN_FILE)
    max_body_bytes: int = DEFAULT_MAX_BODY
    body_timeout: float = 10.0  # seconds to receive a whole body (slow uploads are cut)
    body_budget_bytes: int = 64 * 1024 * 1024  # all bodies being received at once
    accept_timeout: float = 10.0  # a commit slower than this answers 503 (Dodo gives up at 15 s)
    max_queue: int = 20_000  # webhooks waiting for a commit before new ones get 503
    max_group: int = 512  # webhooks per group-commit transaction
    commit_linger: float = 0.002  # under concurrent load, collect a group this long before committing (0: never)
    delivery_workers: int = 2
    lease_seconds: float = 120.0  # a crashed worker's claimed calls are re-sent after this
    shutdown_timeout: float = 10.0
    prune_interval: float = 600.0  # drop delivered calls and inbox entries older than 7 days, this often
    log_level: str = "info"
    synchronous: str = "FULL"
    # --- operations (issue 14) ---
    admin_host: str = DEFAULT_HOST  # /metrics and the detailed /readyz: never on the public webhook port
    admin_port: int | None = None  # None: the webhook port + 1 (0 when the webhook port is 0); -1: no admin listener
    probe_first: float = 5.0  # while delivery is paused: the first probe, then doubling ...
    probe_max: float = 300.0  # ... up to one probe per this many seconds
    store_recheck_seconds: float = 30.0  # after a run-time storage fault, re-check the store at most this often
    head_timeout: float = 10.0  # a request line and headers must arrive within this (per connection)
    max_connections: int = 1000  # open on the webhook port at once (lowered to fit the file-descriptor limit); one more: 503
    small_body_bytes: int = 64 * 1024  # bodies up to this size (by Content-Length) ...
    small_body_reserve_bytes: int = 16 * 1024 * 1024  # ... have this much of body_budget_bytes to themselves

    @property
    def admin_port_resolved(self) -> int | None:
        """The admin listener's port, or None when it is switched off."""
        if self.admin_port is None:
            return 0 if self.port == 0 else self.port + 1
        return None if self.admin_port < 0 else self.admin_port

    @property
    def dry_run(self) -> bool:
        return not self.write_key

    @property
    def dev_secret(self) -> bool:
        return self.dev_secret_file is not None

    @property
    def loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")


def dev_secret_path(db_path: Path | str) -> Path:
    """Beside the SQLite file; in the working directory when the database is PostgreSQL."""
    from segmap.delivery.outbox import is_postgres_url

    if is_postgres_url(str(db_path)):
        return Path.cwd().resolve() / DEV_SECRET_FILE
    return Path(db_path).resolve().parent / DEV_SECRET_FILE


def load_or_create_dev_secret(path: Path) -> str:
    """Read the development secret kept beside the database, or create it (mode 0600).

    Kept so that a restart does not break the test tooling that signs with it;
    it is only ever used when no real secret is configured.
    """
    path = Path(path)
    if path.exists():
        text = path.read_text(encoding="ascii").strip()
        try:
            decode_secret(text)
            return text
        except InvalidSecret:
            pass  # corrupt: replace it
    secret = generate_secret()
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret + "\n")
    os.replace(tmp, path)
    return secret


def read_dev_secret(path: Path) -> str | None:
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        decode_secret(text)
    except InvalidSecret:
        return None
    return text


def build_config(mapping_path: str | os.PathLike, settings: Settings) -> ServiceConfig:
    """The service's configuration from validated settings; creates the development
    secret beside the database when no webhook secret is configured."""
    from segmap.delivery.outbox import db_target

    db_path = db_target(settings.db)
    given = settings.secret_values()
    dev_file = None
    if not given:
        dev_file = dev_secret_path(db_path)
        try:
            given = [load_or_create_dev_secret(dev_file)]
        except OSError as exc:
            raise ConfigError(f"no webhook secret configured and cannot keep a development secret in {dev_file}: "
                              f"{exc.strerror or exc}") from None
    return ServiceConfig(
        mapping_path=Path(mapping_path), secrets=tuple(given), host=settings.host, port=settings.port,
        db_path=db_path, write_key=settings.write_key_value(), region=settings.region,
        segment_host=settings.segment_host, dev_secret_file=dev_file, dry_run_file=Path(settings.dry_run_file),
        max_body_bytes=settings.max_body, delivery_workers=settings.workers, lease_seconds=settings.lease,
        commit_linger=settings.commit_linger,
        shutdown_timeout=settings.shutdown_timeout, log_level=settings.log_level,
        admin_host=settings.admin_host, admin_port=settings.admin_port, probe_first=settings.probe_first,
        probe_max=settings.probe_max,
    )
