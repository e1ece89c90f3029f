"""PyYAML, imported without its most expensive line.

``import yaml`` compiles ``yaml.reader.Reader.NON_PRINTABLE``, a negated character class whose
ranges reach U+10FFFF; Python's regex compiler walks such ranges code point by code point, so that
one ``re.compile`` costs about 58 M instructions (about 8 ms, 8% of a cold `segmap check`), for a
pattern only the pure-Python reader uses (segmap reads with libyaml's, and falls back to the pure
one only past libyaml's nesting limit).

The same set of characters written as the class of what *is* refused compiles in a twentieth of
that, and matches exactly the same code points (``tests/check/test_pyyaml_import.py`` compares the
two over all of Unicode). Before importing PyYAML it is put in ``re``'s cache under PyYAML's
pattern, so PyYAML's ``re.compile`` finds it there. Where ``re`` keeps no such cache (another
Python), nothing is seeded and PyYAML compiles its own: slower, never different.
"""
from __future__ import annotations

import re

#: PyYAML's pattern, as written in yaml/reader.py (6.0).
NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"
#: The code points NON_PRINTABLE matches, listed.
NON_PRINTABLE_LISTED = "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"


def _seed() -> None:
    cache = getattr(re, "_cache", None)
    if isinstance(cache, dict):
        cache.setdefault((str, NON_PRINTABLE, 0), re.compile(NON_PRINTABLE_LISTED))


_seed()

import yaml  # noqa: E402 - after the seed, which is the point

__all__ = ["yaml"]
