"""One settings model for every command that talks to the outbox, the service or Segment.

Why one model: `serve`, `send` and every `outbox` action must agree on where the
database is, which region the workspace lives in and which write key to use;
two readers of the same environment drift apart (issue 15 found `outbox
deliver` sending an EU workspace's data to the US endpoint).

Precedence, highest first::

    command-line flag  >  environment variable  >  config file (TOML)  >  default

The config file is optional and explicit: `--config FILE` or `SEGMAP_CONFIG`;
its keys are the setting names below (`region = "eu"`). Secrets are `SecretStr`:
they print as `**********` in `repr()`, in `segmap config` and in every
validation message, which names the setting and where its value came from
but never echoes the value.

Adding a setting: a field here with `json_schema_extra={"env": [...], "used_by": ...}`,
a flag in the commands that take it (argparse default None, so an absent flag
falls through to the environment), and the consumer reading `settings.<name>`.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic.config import JsonDict
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

from segmap.errors import SegmapError

CONFIG_ENV = "SEGMAP_CONFIG"
SECRET_MASK = "**********"

_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib)?\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|[smhd]?)\s*$")


class SettingsError(ValueError, SegmapError):
    """Settings that cannot be used. The message names each bad setting and the
    place its value came from (flag, environment variable, config file), never a value."""


def parse_size(text: str | int) -> int:
    """`1048576`, `512KiB`, `1MiB` -> bytes."""
    if isinstance(text, int):
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError("not a size (use e.g. 1048576, 512KiB, 1MiB)")
    unit = (m.group(2) or "b").lower()
    mult = {"b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2}[unit]
    return int(m.group(1)) * mult


def parse_duration(text: str | float) -> float:
    """`30`, `30s`, `90m`, `6h`, `2d`, `2ms` -> seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError("not a duration (use e.g. 30s, 90m, 6h, 2d, 2ms)")
    return float(m.group(1)) * {"": 1, "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def split_secrets(text: str | None) -> list[str]:
    """`DODO_WEBHOOK_SECRET` may hold several secrets (rotation), comma or whitespace separated."""
    if not text:
        return []
    return [s for s in re.split(r"[\s,]+", text.strip()) if s]


def _setting(default: Any, *env: str, used_by: str, help: str, secret: bool = False, **kw: Any) -> Any:
    extra: JsonDict = {"env": list(env), "used_by": used_by, "help": help, "secret": secret}
    alias = AliasChoices(*env) if env else None
    if callable(default) and not isinstance(default, (str, int, float)):
        return Field(default_factory=default, validation_alias=alias, json_schema_extra=extra, **kw)
    return Field(default, validation_alias=alias, json_schema_extra=extra, **kw)


class Settings(BaseSettings):
    """The effective configuration of one segmap command. Build it with `load_settings`."""

    model_config = SettingsConfigDict(extra="forbid", populate_by_name=True, case_sensitive=True,
                                      env_prefix="", env_ignore_empty=True, frozen=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # `load_settings` layers the sources itself (to know where each value came from);
        # validating its merged result must not read the environment a second time.
        return (init_settings,)

    db: str = _setting("segmap.db", "SEGMAP_DB", used_by="serve, send, outbox",
                       help="the outbox database: a SQLite file path, or a postgresql:// URL for several instances")
    write_key: SecretStr | None = _setting(None, "SEGMENT_WRITE_KEY", used_by="serve, outbox deliver", secret=True,
                                           help="the Segment source's write key; without it: dry run")
    region: Literal["us", "eu"] = _setting("us", "SEGMENT_REGION", used_by="serve, outbox deliver",
                                           help="the Segment workspace's region: us or eu")
    segment_host: str | None = _setting(None, "SEGMENT_HOST", used_by="serve, outbox deliver",
                                        help="a custom Segment API host (http:// or https://), overrides region")
    webhook_secrets: Annotated[list[SecretStr], NoDecode] = _setting(
        list, "DODO_WEBHOOK_SECRET", "DODO_PAYMENTS_WEBHOOK_KEY", used_by="serve, send", secret=True,
        help="Dodo webhook signing secret(s), whsec_..., comma or space separated for rotation")
    host: str = _setting("127.0.0.1", "SEGMAP_HOST", used_by="serve", help="listen address")
    port: int = _setting(8000, "SEGMAP_PORT", used_by="serve", help="listen port (0 picks a free one)", ge=0, le=65535)
    url: str = _setting("http://127.0.0.1:8000/webhook", "SEGMAP_URL", used_by="send",
                        help="where `segmap send` posts")
    dry_run_file: str = _setting("segmap-dry-run.jsonl", "SEGMAP_DRY_RUN_FILE", used_by="serve, outbox deliver",
                                 help="where a dry run writes the calls it would send")
    max_body: Annotated[int, NoDecode] = _setting(1024 * 1024, "SEGMAP_MAX_BODY", used_by="serve",
                                                  help="largest webhook body accepted (e.g. 1MiB)", ge=1024)
    workers: int = _setting(2, "SEGMAP_WORKERS", used_by="serve, outbox deliver", help="delivery threads", ge=1)
    lease: float = _setting(120.0, "SEGMAP_LEASE", used_by="serve", ge=1,
                            help="seconds a delivery worker owns the calls it claimed")
    commit_linger: float = _setting(0.002, "SEGMAP_COMMIT_LINGER", used_by="serve", ge=0, le=1,
                                    help="under concurrent load, how long the group commit collects webhooks "
                                         "before one durable commit (e.g. 2ms; 0: never wait)")
    shutdown_timeout: float = _setting(10.0, "SEGMAP_SHUTDOWN_TIMEOUT", used_by="serve", gt=0,
                                       help="seconds from SIGTERM to exit, at most")
    segment_timeout: float = _setting(15.0, "SEGMAP_SEGMENT_TIMEOUT", used_by="outbox deliver", gt=0,
                                      help="HTTP read timeout towards Segment, seconds")
    retry_budget: float = _setting(24 * 3600.0, "SEGMAP_RETRY_BUDGET", used_by="outbox deliver", gt=0,
                                   help="give a call up this long after its first failed attempt (e.g. 24h)")
    admin_host: str = _setting("127.0.0.1", "SEGMAP_ADMIN_HOST", used_by="serve",
                               help="address of the admin listener (/metrics, detailed /readyz); keep it private")
    admin_port: int | None = _setting(None, "SEGMAP_ADMIN_PORT", used_by="serve", ge=-1, le=65535,
                                      help="admin listener port (default: the webhook port + 1, 0 with port 0; -1: none)")
    probe_first: float = _setting(5.0, "SEGMAP_PROBE_FIRST", used_by="serve, outbox deliver", gt=0,
                                  help="while delivery is paused, the first one-message probe after this long")
    probe_max: float = _setting(300.0, "SEGMAP_PROBE_MAX", used_by="serve, outbox deliver", gt=0,
                                help="the wait between probes doubles up to this (e.g. 5m)")
    max_undelivered_age: float = _setting(900.0, "SEGMAP_MAX_UNDELIVERED_AGE", used_by="outbox status --check", gt=0,
                                          help="--check fails when the oldest undelivered call is older (e.g. 15m)")
    max_dead: int = _setting(0, "SEGMAP_MAX_DEAD", used_by="outbox status --check", ge=0,
                             help="--check fails with more dead letters than this")
    max_quarantined: int = _setting(0, "SEGMAP_MAX_QUARANTINED", used_by="outbox status --check", ge=0,
                                    help="--check fails with more open quarantined envelopes than this")
    log_level: Literal["debug", "info", "warning", "error"] = _setting("info", "SEGMAP_LOG_LEVEL", used_by="serve",
                                                                       help="debug, info, warning or error")
    log_format: Literal["auto", "json", "text"] = _setting(
        "auto", "SEGMAP_LOG_FORMAT", used_by="serve",
        help="auto (text on a terminal, JSON lines otherwise), json or text")

    @field_validator("webhook_secrets", mode="before")
    @classmethod
    def _split_secrets(cls, value: Any) -> Any:
        if isinstance(value, (str, SecretStr)):
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            return split_secrets(text)
        return value

    @field_validator("webhook_secrets")
    @classmethod
    def _check_secrets(cls, value: list[SecretStr]) -> list[SecretStr]:
        from segmap.service.verification import InvalidSecret, decode_secret

        for i, s in enumerate(value, 1):
            try:
                decode_secret(s.get_secret_value())
            except InvalidSecret as exc:
                # the verifier's message describes the shape, not the value
                raise ValueError(f"secret #{i} is unusable: {exc}") from None
        return value

    @field_validator("write_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: Any) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str) and not text.strip():
            return None
        return text.strip() if isinstance(text, str) else value

    @field_validator("region", mode="before")
    @classmethod
    def _lower_region(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("segment_host", mode="before")
    @classmethod
    def _check_host(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        from segmap.delivery.segment_client import resolve_host

        return resolve_host("us", str(value).strip())

    @field_validator("max_body", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return parse_size(value)

    @field_validator("lease", "commit_linger", "shutdown_timeout", "segment_timeout", "retry_budget", "probe_first", "probe_max",
                     "max_undelivered_age", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    # --- derived views ---

    @property
    def dry_run(self) -> bool:
        return self.write_key is None

    @property
    def segment_endpoint(self) -> str:
        from segmap.delivery.segment_client import resolve_host

        return resolve_host(self.region, self.segment_host)

    def write_key_value(self) -> str | None:
        return None if self.write_key is None else self.write_key.get_secret_value()

    def secret_values(self) -> list[str]:
        return [s.get_secret_value() for s in self.webhook_secrets]


@dataclass(frozen=True)
class Origin:
    """Where an effective value came from, for `segmap config` and error messages."""

    kind: Literal["default", "file", "env", "flag"]
    name: str = ""  # the flag, the variable, or the file path

    def __str__(self) -> str:
        if self.kind == "default":
            return "default"
        if self.kind == "file":
            return f"config file {self.name}"
        if self.kind == "env":
            return f"environment {self.name}"
        return f"flag {self.name}"


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    origins: dict[str, Origin]
    config_file: Path | None


def fields() -> dict[str, Any]:
    return Settings.model_fields


def _extra(name: str) -> dict[str, Any]:
    return fields()[name].json_schema_extra or {}  # type: ignore[return-value]


def is_secret(name: str) -> bool:
    return bool(_extra(name).get("secret"))


def env_names(name: str) -> list[str]:
    return list(_extra(name).get("env", []))


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"config file {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"config file {path}: not valid TOML: {exc}") from None
    table = data.get("segmap", data) if isinstance(data.get("segmap"), dict) else data
    unknown = sorted(k for k in table if k not in fields())
    if unknown:
        known = ", ".join(fields())
        raise SettingsError(f"config file {path}: unknown setting(s) {', '.join(unknown)}; known: {known}")
    return dict(table)


def _read_env(env: Mapping[str, str] | None) -> tuple[dict[str, Any], dict[str, Origin]]:
    """Environment values by setting name. pydantic-settings' source does the lookup
    (aliases, complex types); we only add which variable supplied each value."""
    values: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    environ = os.environ if env is None else env
    if env is None:
        found = EnvSettingsSource(Settings)()
    else:
        found = {}
        for name in fields():
            for var in env_names(name):
                if var in environ:
                    found[var] = environ[var]
                    break
    by_alias = {var: name for name in fields() for var in env_names(name)}
    for key, value in found.items():
        name = by_alias.get(key, key)
        if name not in fields():
            continue
        var = next((v for v in env_names(name) if environ.get(v) not in (None, "")), None) or key
        if isinstance(value, str) and value == "":
            continue  # an empty variable counts as unset
        values[name] = value
        origins[name] = Origin("env", var)
    return values, origins


def load_settings(flags: Mapping[str, Any] | None = None, *, config_file: str | os.PathLike | None = None,
                  env: Mapping[str, str] | None = None, flag_labels: Mapping[str, str] | None = None) -> Loaded:
    """Flags (None = not given) over environment over config file over defaults, validated.

    Raises `SettingsError` naming every bad setting and its source.
    """
    environ = os.environ if env is None else env
    path_text = config_file or environ.get(CONFIG_ENV) or None
    path = Path(path_text) if path_text else None
    merged: dict[str, Any] = {}
    origins: dict[str, Origin] = {name: Origin("default") for name in fields()}
    if path is not None:
        for name, value in _read_config_file(path).items():
            merged[name] = value
            origins[name] = Origin("file", str(path))
    env_values, env_origins = _read_env(env)
    merged.update(env_values)
    origins.update(env_origins)
    for name, value in (flags or {}).items():
        if value is None:
            continue
        if name not in fields():
            raise KeyError(f"not a setting: {name}")  # a programming error, not a user's
        merged[name] = value
        origins[name] = Origin("flag", (flag_labels or {}).get(name) or flag_name(name))
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, origins)) from None
    return Loaded(settings, origins, path)


def _describe(exc: ValidationError, origins: Mapping[str, Origin]) -> str:
    by_alias = {var: name for name in fields() for var in env_names(name)}
    lines = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = err.get("loc") or ("?",)
        name = by_alias.get(str(loc[0]), str(loc[0]))
        where = origins.get(name, Origin("default"))
        msg = err.get("msg", "invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        lines.append(f"setting {name} (from {where}): {msg}")
    return "; ".join(lines) if len(lines) == 1 else "invalid settings:\n  " + "\n  ".join(lines)


def display_value(settings: Settings, name: str) -> Any:
    """The value as `segmap config` shows it: secrets masked, lists of secrets counted."""
    value = getattr(settings, name)
    if is_secret(name):
        if value is None or value == []:
            return None
        if isinstance(value, list):
            return [SECRET_MASK] * len(value)
        return SECRET_MASK
    if name == "db":
        from segmap.delivery.outbox import describe

        return describe(value)  # a PostgreSQL URL may carry a password
    return value
