"""Service configuration: flags win over environment, environment over defaults.

| setting | flag | environment | default |
|---|---|---|---|
| mapping file | MAPPING (positional) | | |
| listen address | --host / --port | | 127.0.0.1 / 8000 |
| database | --db | SEGMAP_DB | segmap.db |
| signing secrets | --secret (repeatable) | DODO_WEBHOOK_SECRET (comma/space separated), else DODO_PAYMENTS_WEBHOOK_KEY | generated development secret |
| Segment write key | | SEGMENT_WRITE_KEY | none: dry run |
| Segment region / host | --region / --segment-host | SEGMENT_REGION / SEGMENT_HOST | us / by region |

Secrets and the write key are kept out of `repr()` so that a config object
can be logged or shown in a traceback without leaking them.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from segmap.service.verification import InvalidSecret, decode_secret, generate_secret

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

_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib)?\s*$", re.IGNORECASE)


class ConfigError(ValueError):
    """A setting is unusable; the message says which one (never its secret value)."""


def parse_size(text: str) -> int:
    m = _SIZE.match(str(text))
    if not m:
        raise ConfigError(f"not a size: {text!r} (use e.g. 1048576, 512KiB, 1MiB)")
    unit = (m.group(2) or "b").lower()
    mult = {"b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2}[unit]
    return int(m.group(1)) * mult


def split_secrets(text: str | None) -> list[str]:
    """`DODO_WEBHOOK_SECRET` may hold several secrets (rotation), comma or whitespace separated."""
    if not text:
        return []
    return [s for s in re.split(r"[\s,]+", text.strip()) if s]


@dataclass(frozen=True)
class ServiceConfig:
    mapping_path: Path
    secrets: tuple[str, ...] = field(repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db_path: Path = Path(DEFAULT_DB)
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
    delivery_workers: int = 2
    lease_seconds: float = 120.0  # a crashed worker's claimed calls are re-sent after this
    shutdown_timeout: float = 10.0
    prune_interval: float = 600.0  # drop delivered calls and inbox entries older than 7 days, this often
    log_level: str = "info"
    synchronous: str = "FULL"

    @property
    def dry_run(self) -> bool:
        return not self.write_key

    @property
    def dev_secret(self) -> bool:
        return self.dev_secret_file is not None

    @property
    def loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")


def dev_secret_path(db_path: Path) -> Path:
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


def build_config(mapping_path: str | os.PathLike, *, env: Mapping[str, str] | None = None,
                 secrets: Sequence[str] | None = None, host: str | None = None, port: int | None = None,
                 db: str | None = None, region: str | None = None, segment_host: str | None = None,
                 **overrides) -> ServiceConfig:
    """Resolve flags (given here) over environment over defaults; validate everything
    that can be validated before the service starts (not the mapping: it is compiled next)."""
    env = os.environ if env is None else env
    db_path = Path(db or env.get(DB_ENV) or DEFAULT_DB)
    given = list(secrets or [])
    if not given:
        given = split_secrets(env.get(SECRET_ENV)) or split_secrets(env.get(SDK_SECRET_ENV))
    for i, s in enumerate(given, 1):
        try:
            decode_secret(s)
        except InvalidSecret as exc:
            raise ConfigError(f"webhook secret #{i}: {exc}") from None
    dev_file = None
    if not given:
        dev_file = dev_secret_path(db_path)
        try:
            given = [load_or_create_dev_secret(dev_file)]
        except OSError as exc:
            raise ConfigError(f"no webhook secret configured and cannot keep a development secret in {dev_file}: "
                              f"{exc.strerror or exc}") from None
    region = (region or env.get(REGION_ENV) or "us").lower()
    segment_host = segment_host or env.get(SEGMENT_HOST_ENV) or None
    from segmap.delivery.segment_client import resolve_host

    try:
        resolve_host(region, segment_host)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    port = DEFAULT_PORT if port is None else int(port)
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be 0..65535, not {port}")
    write_key = (env.get(WRITE_KEY_ENV) or "").strip() or None
    cfg = ServiceConfig(
        mapping_path=Path(mapping_path), secrets=tuple(given), host=host or DEFAULT_HOST, port=port,
        db_path=db_path, write_key=write_key, region=region, segment_host=segment_host,
        dev_secret_file=dev_file, **overrides,
    )
    if cfg.max_body_bytes < 1024:
        raise ConfigError("--max-body must be at least 1KiB")
    if cfg.delivery_workers < 1:
        raise ConfigError("--workers must be >= 1")
    if cfg.lease_seconds < 1:
        raise ConfigError("--lease must be at least 1 second")
    if cfg.shutdown_timeout <= 0:
        raise ConfigError("--shutdown-timeout must be > 0")
    return cfg
