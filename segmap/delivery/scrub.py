"""Masking secrets in text that leaves the process (logs, stored errors, status output).

A secret is masked only where it stands as a whole token: the characters just
before and after it must not be letters, digits or `_`. A substring match
would turn a one-letter write key `k` into "[REDACTED]nown" inside "known",
and a secret embedded in a longer word is not that secret anyway. Everything
around a secret in real output (spaces, quotes, `=`, `:`, `/`, line ends) is
a boundary, so `Basic <token>`, `"key":"<key>"` and `?key=<key>` are masked.
So is a secret right after a JSON escape such as `\n` (a line of a traceback
inside a JSON log line), although the `n` of the escape is a letter.
"""
from __future__ import annotations

import re
from typing import Iterable

REDACTED = "[REDACTED]"
_WORD = "A-Za-z0-9_"


class TokenMasker:
    """Replaces every whole-token occurrence of any of its needles with `[REDACTED]`."""

    def __init__(self, needles: Iterable[str] = ()):
        self._needles: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None
        self.set(needles)

    @property
    def needles(self) -> tuple[str, ...]:
        return self._needles

    def set(self, needles: Iterable[str]) -> None:
        unique = sorted({n for n in needles if n}, key=len, reverse=True)  # longest first: whole forms win
        self._needles = tuple(unique)
        before = f"(?:(?<![{_WORD}])|(?<=\\\\[nrtbf]))"  # not after a word character, or right after a JSON escape
        self._pattern = (re.compile(f"{before}(?:{'|'.join(map(re.escape, unique))})(?![{_WORD}])")
                         if unique else None)

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None:
            return text
        return pattern.sub(REDACTED, text)
