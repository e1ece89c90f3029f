"""A persistent cache of expression parse trees, so that a cold `segmap check` seldom imports Lark.

Importing Lark and loading the parser tables is the largest part of a cold `segmap check`, and
the expressions of a mapping change little between two checks. So `segmap check` keeps the parse
tree of every expression text it parsed (``segmap.dsl.plain_tree``) in one JSON file, and a check
whose texts are all there builds their ASTs from it without importing Lark.

Where: ``$SEGMAP_CACHE_DIR``, else ``$XDG_CACHE_HOME/segmap``, else ``~/.cache/segmap``; a
non-empty ``SEGMAP_NO_CACHE`` turns the cache off. The file is
``expr-trees-<crc32 of the key>.json``.

Why it can be trusted as far as it is:

- it is data, never code: JSON of lists, strings and integers (no pickle, no marshal);
- an entry is used only for the exact text it was stored under, and only when the file's key (the
  grammar text, the Lark version that parsed it, this module's format number) equals the
  installed one, so an edited grammar or another Lark starts a new file;
- the file carries the CRC-32 of its trees: a truncated or damaged file is ignored whole;
- each tree is checked against its text before use (``plain_tree.valid``): the grammar's shapes,
  tokens that spell what their terminal matches, children in order. A tree that fails is parsed
  again with Lark, so no entry can crash the check or hand the checker a malformed AST. (What
  the validation cannot tell is a well-formed tree of *another* parse of the text, which only a
  deliberate edit with a recomputed checksum can produce: the cache's owner, who could as well
  edit segmap's own files, is trusted with that, as Python trusts the owner's ``__pycache__``);
- only a directory and a file owned by the user running segmap, and writable by nobody else, are
  read; the directory is created private (0700) and the file replaced atomically, so a
  concurrent check reads the old file or the new one;
- trees decide `segmap check`'s diagnostics only: compiling a mapping (run, serve, test,
  export) always parses with Lark.

Any failure to read or write the cache is silent: it can cost time, never a result.
"""
from __future__ import annotations

import json
import os
import zlib
from typing import Any

from segmap.dsl.plain_tree import PlainTree, valid

FORMAT = 1
#: At most this many trees are kept (the oldest go first). Every check reads the whole file, so it
#: stays small: 1,000 trees of the benchmark's texts take 167 KB and 2.3 ms to read; the 48-event
#: benchmark mapping has 39 distinct expression texts.
MAX_TREES = 1000


def cache_dir() -> str | None:
    """Where the cache lives, or None when it is turned off."""
    if os.environ.get("SEGMAP_NO_CACHE"):
        return None
    explicit = os.environ.get("SEGMAP_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home.startswith("~"):  # no home directory known: no cache, rather than one under "./~"
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "segmap")


def open_default() -> TreeCache:
    """The cache `segmap check` uses: in ``cache_dir()``, for the shipped grammar and installed Lark."""
    from segmap.grammar.serialize import grammar_text

    directory = cache_dir()
    return TreeCache.open(directory, grammar_text(), lark_version() if directory else None)


def lark_version() -> str | None:
    """The installed Lark's version, read from its package file without importing it (importing
    Lark is what the cache saves); None when it cannot be found."""
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("lark")
    if spec is None or not spec.origin:
        return None
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            source = fh.read()
    except OSError:
        return None
    for line in source.splitlines():
        if line.startswith("__version__"):
            value = line.partition("=")[2].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                return value[1:-1]
    return None


class TreeCache:
    """The trees of one cache file: ``get`` before parsing, ``put`` after, ``save`` at the end."""

    def __init__(self, path: str | None, key: dict[str, Any], trees: dict[str, Any]) -> None:
        self.path = path  # None: kept in memory only (the directory cannot be used)
        self.key = key
        self._trees = trees
        self._added: dict[str, PlainTree] = {}

    @classmethod
    def open(cls, directory: str | None, grammar: str, lark: str | None) -> TreeCache:
        """The cache in ``directory`` for this grammar and Lark version (empty when there is no
        usable file; never raises)."""
        key = {"format": FORMAT, "lark": lark, "grammar": grammar}
        if directory is None or lark is None:
            return cls(None, key, {})
        name = f"expr-trees-{zlib.crc32(json.dumps(key, sort_keys=True).encode('utf-8')):08x}.json"
        path = os.path.join(directory, name)
        return cls(path, key, _read(path, key))

    def get(self, text: str) -> PlainTree | None:
        """The tree stored for ``text`` when it is a valid tree of that text, else None."""
        tree = self._trees.get(text)
        return tree if isinstance(tree, list) and valid(tree, text) else None

    def put(self, text: str, tree: PlainTree) -> None:
        self._added[text] = tree

    def save(self) -> None:
        """Write the trees added since ``open`` (with the newest of the rest) when there are any."""
        if not self._added or self.path is None:
            return
        trees = {t: v for t, v in self._trees.items() if t not in self._added}
        trees.update(self._added)
        if len(trees) > MAX_TREES:
            trees = dict(list(trees.items())[-MAX_TREES:])
        _write(self.path, self.key, trees)
        self._trees, self._added = trees, {}


def _private(st: os.stat_result) -> bool:
    """Owned by this user and writable by no one else (always true where there are no uids)."""
    getuid = getattr(os, "getuid", None)
    return getuid is None or (st.st_uid == getuid() and not st.st_mode & 0o022)


def _read(path: str, key: dict[str, Any]) -> dict[str, Any]:
    try:
        if not _private(os.stat(os.path.dirname(path))):
            return {}
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return {}
    try:
        with os.fdopen(fd, "rb") as fh:
            if not _private(os.fstat(fh.fileno())):
                return {}
            head, _, body = fh.read().partition(b"\n")
        header = json.loads(head)
        if not isinstance(header, dict) or any(header.get(k) != v for k, v in key.items()):
            return {}
        if header.get("crc32") != zlib.crc32(body):  # truncated, or changed since it was written
            return {}
        trees = json.loads(body)
    except (OSError, ValueError, RecursionError):
        return {}
    return trees if isinstance(trees, dict) else {}


def _write(path: str, key: dict[str, Any], trees: dict[str, Any]) -> None:
    """One line of JSON with the key and the checksum of what follows, then the trees as JSON (ASCII:
    a lone surrogate in a text is kept as an escape)."""
    body = json.dumps(trees, separators=(",", ":")).encode("ascii")
    head = json.dumps({**key, "crc32": zlib.crc32(body)}).encode("ascii")
    directory = os.path.dirname(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if not _private(os.stat(directory)):
            return
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(head + b"\n" + body)
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
