"""Whether to colour output: one rule for every command.

In order: an explicit `--color always|never` wins; then `NO_COLOR` set to anything
non-empty turns colour off (no-color.org); then `FORCE_COLOR` set to anything
non-empty except `0` turns it on even when the output is not a terminal (CI logs,
`less -R`; force-color.org, with node's `FORCE_COLOR=0` meaning off); otherwise
colour only on a terminal, and not when `TERM=dumb`.
"""
from __future__ import annotations

import os
import sys
from typing import IO, Mapping


def use_colour(choice: str = "auto", stream: IO | None = None, env: Mapping[str, str] | None = None) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    force = env.get("FORCE_COLOR")
    if force:
        return force != "0"
    stream = stream if stream is not None else sys.stdout
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    return tty and env.get("TERM") != "dumb"
