"""User text inside diagnostics: bounded in length, always encodable.

A diagnostic quotes what the user wrote (a key, a name, a source line). Two
things must hold whatever that text is: the output stays proportional to
the input (a 4,000-character key quoted in 20,000 messages would not), and
printing it never fails. Python strings can hold unpaired surrogates
(``"\\ud800"``), which no UTF-8 stream accepts; they are written as the
escape ``\\ud800`` instead, the way the user spelled them.
"""
from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """``text`` with every unpaired surrogate written as a ``\\udXXX`` escape (printable as UTF-8)."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def first_surrogate(text: str) -> int | None:
    """Index of the first unpaired surrogate in ``text``, or None."""
    m = _SURROGATE.search(text)
    return m.start() if m else None


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to about ``limit`` characters (`abc...xyz`), for quoting user text in a message."""
    if len(text) <= limit:
        return text
    keep = max(1, (limit - 3) // 2)
    return text[:keep] + "..." + text[-keep:]


def window(line: str, start: int, end: int, width: int = 120) -> tuple[str, int, int]:
    """A long source line cut to about ``width`` characters around ``[start, end)`` (0-based).

    Returns ``(shown, start, end)`` with the span moved into the shown text; cut parts
    are marked with ``...``. Lines that fit are returned unchanged.
    """
    if len(line) <= width:
        return line, start, end
    end = max(end, start + 1)
    span_len = min(end - start, width // 2)  # a long span is shown by its beginning
    lo = max(0, start - (width - span_len) // 2)
    hi = min(len(line), lo + width)
    lo = max(0, hi - width)
    prefix = "..." if lo > 0 else ""
    suffix = "..." if hi < len(line) else ""
    shown = prefix + line[lo:hi] + suffix
    new_start = start - lo + len(prefix)
    new_end = min(end, hi) - lo + len(prefix)
    return shown, new_start, max(new_end, new_start + 1)
