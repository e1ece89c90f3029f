"""Where the cursor is in a mapping file, read from the text's indentation.

While the author types, the file is usually not valid YAML (`data.cus` on a
line of its own, a key without a value), so the language server cannot ask
the YAML loader. A mapping file is block-style YAML whose structure shows in
its indentation; this module reads that structure line by line, as an
editor's folding does, and answers: which keys enclose the cursor (`events`
> `payment.succeeded` > the call > `properties`), which call it is in, which
keys its mapping already has, and whether the cursor is on a key or inside
a value (and then the expression text before the cursor).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from segmap.dsl.segment_fields import CALL_FIELDS

# indentation, an optional "- " item marker, an optional key (plain or quoted) followed by ":" and a space or the end
_LINE = re.compile(
    r"""^(?P<indent>[ ]*)(?P<marker>-[ ]+)?(?:(?P<key>"[^"]*"|'[^']*'|[^\s#'"\-][^:#]*?|-[^\s:#][^:#]*?)[ ]*:(?=[ ]|$))?"""
)
_BLOCK_INDICATOR = re.compile(r"^[|>][-+0-9]*\s*(#.*)?$")


@dataclass(frozen=True, slots=True)
class LineInfo:
    """One line's structure: where its key starts, its item marker, its key and value."""

    text: str
    key_col: int  # column of the key (or of the content) in code points
    marker_col: int | None  # column of "- " when the line starts a list item
    key: str | None
    value_col: int  # where the value starts (after ": "), or key_col when there is no key

    @property
    def blank(self) -> bool:
        s = self.text.strip()
        return not s or s.startswith("#")

    @property
    def value(self) -> str:
        return self.text[self.value_col:]


def line_info(text: str) -> LineInfo:
    m = _LINE.match(text)
    assert m is not None  # every part is optional
    indent = len(m.group("indent"))
    marker = m.group("marker")
    key_col = indent + (len(marker) if marker else 0)
    key = m.group("key")
    if key is None:
        return LineInfo(text, key_col, indent if marker else None, None, key_col)
    value_col = m.end()
    while value_col < len(text) and text[value_col] == " ":
        value_col += 1
    if key[:1] in "\"'" and len(key) >= 2:
        key = key[1:-1]
    return LineInfo(text, key_col, indent if marker else None, key.strip(), value_col)


@dataclass
class Context:
    """What encloses a cursor position (0-based line, column in code points)."""

    ancestors: list[str] = field(default_factory=list)  # outermost first: ["events", "payment.succeeded", ...]
    siblings: list[str] = field(default_factory=list)  # keys of the mapping the cursor's key (would) belong to
    in_item: bool = False  # that mapping is a list item (a call)
    on_key: bool = True  # the cursor is where a key is written
    key: str | None = None  # on a value: its key
    expression: str = ""  # on a value: the expression text before the cursor
    prefix: str = ""  # on a key: what is typed of it so far
    item_start: bool = False  # on a key right after "- "
    item_keys: list[str] = field(default_factory=list)  # keys of the enclosing list item (the call)

    @property
    def section(self) -> str | None:
        return self.ancestors[0] if self.ancestors else (None if self.on_key else self.key)

    @property
    def rule(self) -> str | None:
        """The event pattern of the enclosing rule (the key below `events:`)."""
        path = self.ancestors + ([] if self.on_key or self.key is None else [self.key])
        if len(path) >= 2 and path[0] == "events":
            return path[1]
        return None

    @property
    def call(self) -> str | None:
        """The call kind (track, identify, ...) of the enclosing call."""
        for key in [*self.siblings, *self.item_keys]:
            if key in CALL_FIELDS:
                return key
        for key in reversed(self.ancestors):
            if key in CALL_FIELDS:
                return key
        return None

    @property
    def field_path(self) -> list[str]:
        """The keys from the call down to the cursor's key: ["properties", "revenue"]."""
        path = self.ancestors + ([] if self.on_key or self.key is None else [self.key])
        if self.rule is None:
            return path[1:] if path[:1] == ["defaults"] else []
        inner = path[2:]
        if inner and inner[0] in CALL_FIELDS:
            inner = inner[1:]
        return inner


def _mapping_keys(infos: list[LineInfo], row: int, col: int) -> tuple[list[str], bool]:
    """Keys at column ``col`` of the mapping around ``row`` (which need not have a key), and
    whether that mapping is a list item."""
    keys: list[str] = []
    in_item = False
    r = row
    while r >= 0:  # upwards, to the line that starts the mapping
        li = infos[r]
        if not li.blank:
            if li.key_col < col and (li.marker_col is None or li.key_col != col):
                break
            if li.key_col == col and li.key is not None:
                keys.append(li.key)
            if li.key_col == col and li.marker_col is not None:
                in_item = True
                break
        r -= 1
    for li in infos[row + 1:]:  # downwards, to its end
        if li.blank:
            continue
        if li.key_col < col or li.marker_col is not None and li.key_col <= col:
            break
        if li.key_col == col and li.key is not None:
            keys.append(li.key)
    return keys, in_item


def _ancestors(infos: list[LineInfo], row: int, col: int) -> list[str]:
    """The keys enclosing column ``col`` of line ``row``, outermost first."""
    out: list[str] = []
    threshold = col
    for r in range(row - 1, -1, -1):
        li = infos[r]
        if li.blank:
            continue
        if li.key_col < threshold and li.key is not None:
            out.append(li.key)
            threshold = li.key_col if li.marker_col is None else li.marker_col
        elif li.marker_col is not None and li.marker_col < threshold:
            threshold = li.marker_col
        elif li.key_col < threshold:
            threshold = li.key_col
        if threshold == 0:
            break
    return list(reversed(out))


def _enclosing_item_keys(infos: list[LineInfo], row: int, col: int) -> list[str]:
    """The keys of the nearest list item enclosing column ``col`` of line ``row``."""
    threshold = col
    for r in range(row, -1, -1):
        li = infos[r]
        if li.blank:
            continue
        if li.marker_col is not None and li.marker_col < threshold:
            return _mapping_keys(infos, r, li.key_col)[0]
        if li.key_col < threshold:
            threshold = li.key_col
        if threshold == 0:
            break
    return []


def _owner_of_continuation(infos: list[LineInfo], row: int) -> int | None:
    """For a line that is part of a multi-line value (a block scalar's body, a
    plain scalar continued), the line of its key."""
    li = infos[row]
    for r in range(row - 1, -1, -1):
        up = infos[r]
        if up.blank:
            continue
        if up.key_col < li.key_col and up.key is not None:
            value = up.value.strip()
            return r if value and _BLOCK_INDICATOR.match(value) else None
        if up.key_col < li.key_col or up.key is not None:
            return None
    return None


def _strip_quote(value: str) -> str:
    """The expression inside a quoted YAML scalar (the part typed so far)."""
    if value[:1] == "'":
        return value[1:].replace("''", "'")
    if value[:1] == '"':
        return value[1:]
    return value


def context_at(text: str, line: int, col: int) -> Context:
    """The :class:`Context` of position (``line``, ``col``), both 0-based, ``col`` in code points."""
    lines = text.split("\n")
    while len(lines) <= line:
        lines.append("")
    lines = [x.rstrip("\r") for x in lines]
    infos = [line_info(x) for x in lines]
    li = infos[line]
    col = min(col, len(li.text))
    before = li.text[:col]
    # a value on this line: the cursor is after "key: "
    if li.key is not None and col >= li.value_col and li.value_col > li.key_col:
        ctx = Context(_ancestors(infos, line, li.key_col), on_key=False, key=li.key)
        ctx.siblings, ctx.in_item = _mapping_keys(infos, line, li.key_col)
        ctx.item_keys = _enclosing_item_keys(infos, line, li.key_col + 1)
        value = li.text[li.value_col:col]
        ctx.expression = "" if value.strip() and _BLOCK_INDICATOR.match(value.strip()) else _strip_quote(value)
        return ctx
    # a continuation line of a multi-line value
    if li.key is None and li.marker_col is None and before.strip():
        owner = _owner_of_continuation(infos, line)
        if owner is not None:
            o = infos[owner]
            ctx = Context(_ancestors(infos, owner, o.key_col), on_key=False, key=o.key)
            ctx.siblings, ctx.in_item = _mapping_keys(infos, owner, o.key_col)
            ctx.item_keys = _enclosing_item_keys(infos, owner, o.key_col + 1)
            body = [infos[r].text.strip() for r in range(owner + 1, line)] + [before.strip()]
            ctx.expression = " ".join(x for x in body if x)
            return ctx
    # a key (being) written here
    key_col = li.key_col if li.text.strip() else col
    ctx = Context(_ancestors(infos, line, key_col))
    ctx.prefix = before[key_col:] if col >= key_col else ""
    ctx.item_start = li.marker_col is not None
    ctx.siblings, ctx.in_item = _mapping_keys(infos, line, key_col)
    ctx.in_item = ctx.in_item or ctx.item_start
    ctx.item_keys = _enclosing_item_keys(infos, line, key_col + 1)
    return ctx


__all__ = ["Context", "LineInfo", "context_at", "line_info"]
