"""The base of every exception segmap raises on purpose.

``except segmap.SegmapError`` catches every problem segmap reports about
its input or its environment (a mapping with errors, an envelope a mapping
fails on, a refused message, an unreadable setting ...), and nothing else:
a bug in segmap surfaces as an ordinary Python exception. Each subclass
also keeps the built-in base it always had (``ValueError``, ``KeyError``,
``OSError`` ...), so existing ``except`` clauses still match.

A leaf module: every stage imports it, it imports nothing of segmap.
"""
from __future__ import annotations


class SegmapError(Exception):
    """An error segmap raises on purpose, about its input or its environment."""
