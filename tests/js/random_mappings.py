"""A Hypothesis strategy for small random mappings over real snapshot paths.

Expressions are drawn type-directed from the grammar's constructs (paths,
indexes, literals, every operator, if/then/else, ``??``, templates, object
and list literals, ``map`` with lambdas, every registry function) over the
typed leaves of one event's snapshot model, so most of them pass the
checker; the property test discards the rest. Every compound is
parenthesised, so the text needs no precedence reasoning.
"""
from __future__ import annotations

import functools
import json

from hypothesis import strategies as st

from segmap.compiler.snapshot import load_snapshot

SCALAR_KIND = {"int": "num", "float": "num", "str": "str", "datetime": "str", "date": "str", "enum": "str",
               "bool": "bool"}
STRINGS = ("", "a", "USD", "x y", '"q"', "\\", "\u2028", "😀", "__proto__", "</script>", "0", "null")


def _extra(t: dict) -> tuple:
    if t["t"] == "enum":
        return ("currency",) if t.get("name") == "Currency" else tuple(t["values"])
    return {"int": ("int",), "datetime": ("datetime",)}.get(t["t"], ())


@functools.cache
def leaves(event_type: str) -> tuple[tuple[str, str, bool, tuple], ...]:
    """(path, kind, may be null/absent, extra) for one event: kind is num/str/bool/list/obj;
    extra is the enum values, ("currency",), ("int",) or the list's item type as JSON."""
    snap = load_snapshot()
    out: list[tuple[str, str, bool, tuple]] = [("business_id", "str", False, ()), ("type", "str", False, ()),
                                               ("timestamp", "str", False, ())]

    def walk(model: str, prefix: str, empty: bool, depth: int) -> None:
        for name, f in snap["models"][model]["fields"].items():
            t, path = f["type"], f"{prefix}.{name}"
            maybe = empty or f["nullable"] or not f["required"]
            kind = t["t"]
            if kind in SCALAR_KIND:
                out.append((path, SCALAR_KIND[kind], maybe, _extra(t)))
            elif kind == "model":
                out.append((path, "obj", maybe, ()))
                if depth < 2:
                    walk(t["name"], path, maybe, depth + 1)
            elif kind == "list":
                out.append((path, "list", maybe, (json.dumps(t["items"]),)))
                if t["items"]["t"] == "model" and depth < 2:
                    walk(t["items"]["name"], path + "[0]", True, depth + 1)
            elif kind == "dict":
                out.append((path, "obj", maybe, ()))

    walk(snap["events"][event_type]["data"], "data", False, 0)
    return tuple(out)


class _Gen:
    def __init__(self, draw, event_type: str):
        self.draw = draw
        self.pool = list(leaves(event_type))
        self.lambdas = 0

    def pick(self, kind: str, non_null: bool = False, extra=None):
        opts = [leaf for leaf in self.pool if leaf[1] == kind and (not non_null or not leaf[2])
                and (extra is None or leaf[3] == extra)]
        return self.draw(st.sampled_from(opts)) if opts else None

    def choice(self, *options):
        return self.draw(st.sampled_from(options))

    def expr(self, kind: str, depth: int) -> str:
        if kind == "any":
            kind = self.choice("num", "str", "bool", "list", "obj")
        return getattr(self, "_" + kind)(depth)

    # --- each kind: a leaf, a literal, or (while depth lasts) a compound ---------------
    def _num(self, d: int) -> str:
        leaf = self.pick("num")
        opts = ["lit"] + (["leaf"] * 3 if leaf else [])
        if d > 0:
            opts += ["arith", "neg", "coalesce", "round", "length", "to_major", "number", "if", "coalesce_fn", "index",
                     "decimals"]
        o = self.choice(*opts)
        if o == "leaf":
            return leaf[0]
        if o == "lit":
            return self.choice("0", "1", "7", "100", "2.5", "0.1", "1e21", "(-3)")
        if o == "arith":
            return f"({self._num(d - 1)} {self.choice('+', '-', '*', '/', '%')} {self._num(d - 1)})"
        if o == "neg":
            return f"(-{self._num(d - 1)})"
        if o == "coalesce":
            return f"({self._num(d - 1)} ?? {self._num(d - 1)})"
        if o == "round":
            return f"round({self._num(d - 1)}, {self.choice('0', '1', '2', '3')})"
        if o == "length":
            return f"length({self.choice(self._str, self._list)(d - 1)})"
        if o == "to_major":
            amount = self.pick("num", extra=("int",))
            currency = self.pick("str", non_null=True, extra=("currency",))
            if amount and currency:
                return f"to_major({amount[0]}, {currency[0]})"
            return self._num(d - 1)
        if o == "number":
            return f"number(string({self._num(d - 1)}))"
        if o == "if":
            return f"(if {self._bool(d - 1)} then {self._num(d - 1)} else {self._num(d - 1)})"
        if o == "coalesce_fn":
            return f"coalesce({self._num(d - 1)}, {self._num(d - 1)})"
        if o == "decimals":
            currency = self.pick("str", non_null=True, extra=("currency",))
            return f"decimals({currency[0]})" if currency else "2"
        lst = self.pick("list")
        return f"length({lst[0]})" if lst else "0"

    def _str(self, d: int) -> str:
        leaf = self.pick("str")
        opts = ["lit"] + (["leaf"] * 3 if leaf else [])
        if d > 0:
            opts += ["concat", "template", "case", "string", "fixed", "iso", "fallback", "join", "if", "coalesce"]
        o = self.choice(*opts)
        if o == "leaf":
            return leaf[0]
        if o == "lit":
            return json.dumps(self.choice(*STRINGS), ensure_ascii=True)
        if o == "concat":
            return f"({self._str(d - 1)} + {self._str(d - 1)})"
        if o == "template":
            a, b = self.expr(self.choice("num", "str", "bool"), d - 1), self.expr(self.choice("num", "str"), d - 1)
            if '"' in a + b or "{" in a + b:  # a hole holds no braces and no double quotes here
                return f"string({self._num(d - 1)})"
            return f'f"<{{{a}}}|{{{{x}}}}|{{{b}}}>"'
        if o == "case":
            return f"{self.choice('lower', 'upper', 'trim')}({self._str(d - 1)})"
        if o == "string":
            return f"string({self.expr(self.choice('num', 'bool', 'str'), d - 1)})"
        if o == "fixed":
            return f"fixed({self._num(d - 1)}, {self.choice('0', '2', '5')})"
        if o == "iso":
            moments = ["timestamp"] + [p[0] for p in self.pool if p[3] == ("datetime",)]
            return f"iso_time({self.choice(*moments)})"
        if o == "fallback":
            return f"fallback({self._str(d - 1)}, {json.dumps(self.choice(*STRINGS))})"
        if o == "join":
            return f'join({self._list_of_str(d - 1)}, ",")'
        if o == "coalesce":
            return f"({self._str(d - 1)} ?? {self._str(d - 1)})"
        return f"(if {self._bool(d - 1)} then {self._str(d - 1)} else {self._str(d - 1)})"

    def _list_of_str(self, d: int) -> str:
        lst = self.pick("list")
        if lst is None or d <= 0:
            return f"[{self._str(0)}, {self._str(0)}]"
        return self._map(lst, "str", d)

    def _bool(self, d: int) -> str:
        leaf = self.pick("bool")
        opts = ["lit"] + (["leaf"] * 2 if leaf else [])
        if d > 0:
            opts += ["cmp_num", "cmp_str", "cmp_same", "eq_enum", "null", "not", "and", "or", "eq_any"]
        o = self.choice(*opts)
        if o == "leaf":
            return leaf[0]
        if o == "lit":
            return self.choice("true", "false")
        if o == "cmp_num":
            return f"({self._num(d - 1)} {self.choice('<', '<=', '>', '>=', '==', '!=')} {self._num(d - 1)})"
        if o == "cmp_str":
            return f"({self._str(d - 1)} {self.choice('<', '<=', '>', '>=')} {self._str(d - 1)})"
        if o == "cmp_same":  # equal operands: where < and <= differ
            x = self.expr(self.choice("num", "str"), d - 1)
            return f"({x} {self.choice('<', '<=', '>', '>=', '==', '!=')} {x})"
        if o == "eq_enum":
            enums = [p for p in self.pool if p[1] == "str" and p[3] and p[3] != ("currency",)]
            if not enums:
                return self._bool(d - 1)
            path, _, _, values = self.draw(st.sampled_from(enums))
            return f"({path} {self.choice('==', '!=')} {json.dumps(self.draw(st.sampled_from(values)))})"
        if o == "null":
            leaf = self.draw(st.sampled_from(self.pool))
            return f"({leaf[0]} {self.choice('==', '!=')} null)"
        if o == "not":
            return f"(not {self._bool(d - 1)})"
        if o in ("and", "or"):
            return f"({self._bool(d - 1)} {o} {self._bool(d - 1)})"
        k = self.choice("num", "str", "list", "obj")
        return f"({self.expr(k, d - 1)} {self.choice('==', '!=')} {self.expr(k, d - 1)})"

    def _list(self, d: int) -> str:
        lst = self.pick("list")
        opts = ["lit"] + (["leaf"] * 2 if lst else [])
        if d > 0 and lst:
            opts += ["map", "index_list"]
        o = self.choice(*opts)
        if o == "leaf":
            return lst[0]
        if o == "map":
            return self._map(lst, self.choice("num", "str", "bool", "obj", "any"), d)
        if o == "index_list":
            return f"[{lst[0]}[{self.choice('0', '-1', '3')}], {lst[0]}[{self._num(d - 1)}]]"
        return "[" + ", ".join(self.expr("any", max(0, d - 1)) for _ in range(self.draw(st.integers(0, 3)))) + "]"

    def _map(self, lst, body_kind: str, d: int) -> str:
        item = json.loads(lst[3][0])
        self.lambdas += 1
        var = f"v{self.lambdas}"
        added = []
        if item["t"] == "model":
            for name, f in load_snapshot()["models"][item["name"]]["fields"].items():
                kind = SCALAR_KIND.get(f["type"]["t"])
                if kind:
                    added.append((f"{var}.{name}", kind, f["nullable"] or not f["required"], _extra(f["type"])))
            added.append((var, "obj", False, ()))
        elif item["t"] in SCALAR_KIND:
            added.append((var, SCALAR_KIND[item["t"]], False, ()))
        else:
            added.append((var, "obj", False, ()))
        self.pool.extend(added)
        body = self.expr(body_kind, d - 1)
        del self.pool[-len(added):]
        return f"map({lst[0]}, {var} => {body})"

    def _obj(self, d: int) -> str:
        leaf = self.pick("obj")
        opts = ["lit"] + (["leaf"] if leaf else [])
        o = self.choice(*opts)
        if o == "leaf":
            return leaf[0]
        keys = self.draw(st.lists(st.sampled_from(["a", "b", "__proto__", "constructor", "k 1", "0"]),
                                  max_size=3, unique=True))
        return "{" + ", ".join(f"{json.dumps(k)}: {self.expr('any', max(0, d - 1))}" for k in keys) + "}"


def _family_glob(event: str) -> str:
    """`family.*` when every event of the family has the same data model (else the event itself)."""
    events = load_snapshot()["events"]
    family = [e for e in events if e.split(".")[0] == event.split(".")[0]]
    same = all(events[e]["data"] == events[event]["data"] for e in family)
    return event.split(".")[0] + ".*" if same else event


def _yaml(s: str) -> str:
    return json.dumps(s, ensure_ascii=True)  # a JSON string is a YAML double-quoted scalar


@st.composite
def random_mappings(draw, event_types: list[str]):
    """(event type, mapping text) with 1-3 random calls for that event."""
    event = draw(st.sampled_from(event_types))
    gen = _Gen(draw, event)
    pattern = draw(st.sampled_from([event, _family_glob(event)]))
    lines = ["version: 1", "events:", f"  {_yaml(pattern)}:"]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["track", "identify", "group", "page", "screen", "alias"]))
        head = {"track": " Random Event", "page": " Home", "screen": " Home"}.get(kind, "")
        lines.append(f"    - {kind}:{head}")
        lines.append("      userId: business_id")
        if kind == "group":
            lines.append("      groupId: business_id")
        if kind == "alias":
            lines.append("      previousId: business_id")
        if draw(st.booleans()):
            lines.append(f"      when: {_yaml(gen.expr('bool', 2))}")
        if draw(st.integers(0, 3)) == 0:
            moments = ["timestamp"] + [p[0] for p in gen.pool if p[3] == ("datetime",)]
            moment = draw(st.sampled_from(moments))
            lines.append(f"      timestamp: {_yaml(draw(st.sampled_from([moment, f'iso_time({moment})'])))}")
        if kind != "alias":
            field = "traits" if kind in ("identify", "group") else "properties"
            lines.append(f"      {field}:")
            for i in range(draw(st.integers(1, 4))):
                lines.append(f"        f{i}: {_yaml(gen.expr('any', draw(st.integers(0, 3))))}")
        if draw(st.integers(0, 4)) == 0:
            lines.append(f"      context: {_yaml(gen._obj(1))}")
    return event, "\n".join(lines) + "\n"
