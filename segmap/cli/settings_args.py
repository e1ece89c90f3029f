"""Glue between argparse and `segmap.settings`: every command that takes settings
declares its flags with `default=None` (so an absent flag falls through to the
environment and the config file) and resolves them with `resolve`."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Mapping

CONFIG_HELP = "TOML file of settings (also $SEGMAP_CONFIG); flags and environment variables win over it"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", default=None, help=CONFIG_HELP)


def resolve(args: argparse.Namespace, prog: str, flags: Mapping[str, Any],
            labels: Mapping[str, str] | None = None):
    """The validated settings, or None after printing the problem (the caller exits 2)."""
    from segmap.settings import SettingsError, load_settings

    try:
        return load_settings(flags, config_file=getattr(args, "config", None), flag_labels=labels).settings
    except SettingsError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None
