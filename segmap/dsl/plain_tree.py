"""Expression parse trees as plain lists: what the AST builder reads and the tree cache stores.

Lark's parse tree of an expression, in a form that needs no Lark to read and that JSON can hold:

- a rule (its name or alias in ``segmap/grammar/expr.lark``) is ``[rule, start, end, [children]]``;
- a token is ``[type, start, end]``; its text is ``text[start:end]`` of the expression it came from.

Offsets are positions in the expression text, so one tree serves every occurrence of the text,
wherever it stands in a file. ``valid`` decides whether a list read back from the cache is a tree
the builder can take for a given text: the shape each rule has in the grammar, tokens that spell
what their terminal matches, children in order inside their parent. Anything else is refused, so
a corrupt or foreign cache entry costs a parse, never a crash or a wrong AST shape.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lark import Token, Tree

#: ``[rule, start, end, children]`` or ``[type, start, end]`` (lists; JSON arrays in the cache).
PlainTree = list[Any]

#: The terminals that reach the tree (anonymous ones, such as `(` or `if`, are filtered out by Lark),
#: with the patterns Lark compiles from expr.lark (``tests/check/test_tree_cache.py`` compares them).
TERMINALS: dict[str, str] = {
    "COMP_OP": '(?:==|!=|<=|>=|<|>)',
    "ADD_OP": '(?:\\+|\\-)',
    "MUL_OP": '(?:\\*|/|%)',
    "NAME": '[A-Za-z_][A-Za-z0-9_]*',
    "NUMBER": '(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?',
    "STRING": '(?:"(?:[^"\\\\\n]|\\\\.)*"|\'(?:[^\'\\\\\n]|\\\\.)*\')',
    "TEMPLATE": 'f"(?:[^"\\\\{}\n]|\\\\.|\\{\\{|\\}\\}|\\{(?:[^{}"\'\n]|"(?:[^"\\\\\n]|\\\\.)*"|\'(?:[^\'\\\\\n]|\\\\.)*\')*\\})*"',
}

# Child shapes per rule: "E" any expression, "L" an expression or a lambda (map's second argument),
# a rule name that rule, an upper-case name a token of that terminal; "*" after the last slot
# repeats it (one or more), a tuple lists the shapes a rule may have.
_EXPR_RULES = frozenset({"cond", "coalesce", "or_", "and_", "not_", "compare", "binary", "neg", "field", "index",
                         "call", "name", "string", "number", "template", "true", "false", "null", "list_", "object_"})
_SHAPES: dict[str, tuple[tuple[str, ...], ...]] = {
    "cond": (("E", "E", "E"),),
    "coalesce": (("E", "E"),),
    "or_": (("E", "E"),),
    "and_": (("E", "E"),),
    "not_": (("E",),),
    "neg": (("E",),),
    "compare": (("E", "COMP_OP", "E"),),
    "binary": (("E", "ADD_OP", "E"), ("E", "MUL_OP", "E")),
    "field": (("E", "field_name"),),
    "field_name": (("NAME",),),
    "index": (("E", "E"),),
    "call": (("NAME",), ("NAME", "args")),
    "args": (("L", "*"),),
    "lambda_": (("NAME", "E"),),
    "name": (("NAME",),),
    "string": (("STRING",),),
    "number": (("NUMBER",),),
    "template": (("TEMPLATE",),),
    "true": ((),),
    "false": ((),),
    "null": ((),),
    "list_": ((), ("items",)),
    "items": (("E", "*"),),
    "object_": ((), ("entries",)),
    "entries": (("entry", "*"),),
    "entry": (("NAME", "E"), ("STRING", "E")),
}
_MATCHERS: dict[str, Any] = {}


def from_lark(tree: Tree[Token]) -> PlainTree:
    """Lark's tree as a plain tree (iterative: a parsed tree can be deeper than the recursion limit,
    it is refused for depth only afterwards)."""
    from lark import Tree

    def plain(node: Any) -> PlainTree:
        if isinstance(node, Tree):
            meta = node.meta
            return [node.data, *((None, None) if meta.empty else (meta.start_pos, meta.end_pos)), []]
        return [node.type, node.start_pos, node.end_pos]

    root = plain(tree)
    stack: list[tuple[Any, PlainTree]] = [(tree, root)]
    while stack:
        node, out = stack.pop()
        for child in node.children:
            converted = plain(child)
            out[3].append(converted)
            if len(converted) == 4:
                stack.append((child, converted))
    return root


def depth(tree: PlainTree) -> int:
    """Nodes on the longest path from the root to a token (a token counts as a level)."""
    best = 0
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        if len(node) == 4:
            stack.extend((child, d + 1) for child in node[3])
    return best


def valid(tree: object, text: str) -> bool:
    """Whether ``tree`` (read back from the cache) is a tree of the grammar's shapes for ``text``."""
    try:
        return _valid(tree, text)
    except (TypeError, ValueError, IndexError, KeyError):  # a list where an int belongs, and the like
        return False


def _valid(tree: object, text: str) -> bool:
    if not _fits(tree, "E"):
        return False
    stack: list[tuple[Any, int, int]] = [(tree, 0, len(text))]  # node, and the range it must lie in
    while stack:
        node, low, high = stack.pop()
        start, end = node[1], node[2]
        if len(node) == 3:
            if not (type(start) is int and type(end) is int and low <= start < end <= high):
                return False
            if _matcher(node[0])(text, start, end) is None:
                return False
            continue
        kids = node[3]
        if not isinstance(kids, list) or not any(_shape_fits(shape, kids) for shape in _SHAPES[node[0]]):
            return False
        if start is None and end is None:
            if kids:  # Lark leaves positions out only for a rule that spans nothing
                return False
            continue
        if not (type(start) is int and type(end) is int and low <= start <= end <= high):
            return False
        at = start
        for kid in kids:  # children in order, none overlapping the one before
            kid_start, kid_end = kid[1], kid[2]
            if type(kid_start) is not int or type(kid_end) is not int or kid_start < at:
                return False
            stack.append((kid, kid_start, end))
            at = kid_end
    return True


def _shape_fits(shape: tuple[str, ...], kids: list[Any]) -> bool:
    if shape and shape[-1] == "*":
        return bool(kids) and all(_fits(k, shape[0]) for k in kids)
    return len(shape) == len(kids) and all(_fits(k, s) for s, k in zip(shape, kids))


def _fits(node: Any, slot: str) -> bool:
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        return False
    if slot == "E" or slot == "L":
        rules = _EXPR_RULES | {"lambda_"} if slot == "L" else _EXPR_RULES
        return len(node) == 4 and node[0] in rules
    if slot in TERMINALS:
        return len(node) == 3 and node[0] == slot
    return len(node) == 4 and node[0] == slot


def _matcher(terminal: str) -> Any:
    """The fullmatch of ``terminal``'s pattern at text[start:end] (compiled on first use)."""
    found = _MATCHERS.get(terminal)
    if found is None:
        found = _MATCHERS[terminal] = re.compile(TERMINALS[terminal]).fullmatch
    return found
