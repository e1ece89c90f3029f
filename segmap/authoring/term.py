"""Terminal helpers: whether to colour, and the few styles the authoring commands use."""
from __future__ import annotations

import sys

RESET = "\x1b[0m"
STYLES = {
    "key": "\x1b[36m",  # cyan
    "string": "\x1b[32m",  # green
    "number": "\x1b[33m",  # yellow
    "literal": "\x1b[35m",  # magenta: true false null
    "punct": "",
    "dim": "\x1b[2m",
    "bold": "\x1b[1m",
    "pass": "\x1b[1;32m",
    "fail": "\x1b[1;31m",
    "warn": "\x1b[1;33m",
    "add": "\x1b[32m",
    "del": "\x1b[31m",
    "hunk": "\x1b[36m",
}


def use_colour(choice: str, stream=None) -> bool:
    """``always``/``never``, or ``auto`` (NO_COLOR, FORCE_COLOR, a terminal): see segmap.colour."""
    from segmap.colour import use_colour as decide

    return decide(choice, stream or sys.stdout)


class Painter:
    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, style: str, text: str) -> str:
        code = STYLES.get(style, "")
        if not self.colour or not code or not text:
            return text
        return f"{code}{text}{RESET}"
