"""`segmap config`: the effective settings, where each value came from, secrets masked.

The same resolution `serve`, `send` and `outbox` use (flags > environment >
config file > defaults, see `segmap.settings`), so what this prints is what
those commands run with. Exit 0, or 2 when a setting is invalid (the message
names it and its source, never its value).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Mapping

from segmap.cli.settings_args import add_config_argument

EXIT_OK, EXIT_USAGE = 0, 2


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "config",
        help="show the effective settings (flags > environment > config file > defaults), secrets masked",
        description="Show every setting that serve, send and outbox use: its effective value, where it came "
                    "from (default, config file, environment variable) and the variables that set it. "
                    "Secrets print as ********** when set.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_argument(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return print_settings(args, {}, {}, prog="segmap config")


def print_settings(args: argparse.Namespace, flags: Mapping[str, Any], labels: Mapping[str, str], *,
                   prog: str) -> int:
    import orjson

    from segmap.settings import SettingsError, display_value, env_names, fields, load_settings

    try:
        loaded = load_settings(flags, config_file=getattr(args, "config", None), flag_labels=labels)
    except SettingsError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    s = loaded.settings
    rows = []
    for name, info in fields().items():
        extra = info.json_schema_extra or {}
        rows.append({"name": name, "value": display_value(s, name), "source": str(loaded.origins[name]),
                     "env": env_names(name), "used_by": extra.get("used_by", ""), "help": extra.get("help", "")})
    summary = {
        "config_file": str(loaded.config_file) if loaded.config_file else None,
        "delivery": "dry run (no write key)" if s.dry_run else f"live to {s.segment_endpoint}",
        "segment_endpoint": s.segment_endpoint,
    }
    if getattr(args, "format", "text") == "json":
        sys.stdout.write(orjson.dumps({**summary, "settings": rows}, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    print(f"config file: {summary['config_file'] or '(none; --config FILE or SEGMAP_CONFIG)'}")
    print(f"delivery:    {summary['delivery']}")
    width = max(len(r["name"]) for r in rows)
    vwidth = min(40, max(len(_text(r["value"])) for r in rows))
    for r in rows:
        env = f"  [{', '.join(r['env'])}]" if r["env"] else ""
        print(f"{r['name']:<{width}}  {_text(r['value']):<{vwidth}}  {r['source']}{env}")
    return EXIT_OK


def _text(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(none)"
    return str(value)
