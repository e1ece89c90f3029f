"""Large deterministic sweeps, each in a single node round trip."""
from __future__ import annotations

import random
import struct

from segmap.runtime import functions as F
from tests.runtime.bridge import agree, run_py
from tests.support.node import NodeBridge


def _doubles(n: int, seed: int = 20250101) -> list[float]:
    """Finite doubles: random bit patterns, money-like decimals, ties,
    dyadic fractions, and values around 1e21 and 2**53."""
    rnd = random.Random(seed)
    out: list[float] = []
    while len(out) < n:
        kind = rnd.randrange(7)
        if kind == 0:
            x = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
            if x != x or x in (float("inf"), float("-inf")):
                continue
        elif kind == 1:
            x = rnd.randint(-(10**9), 10**9) / 10 ** rnd.randint(0, 9)
        elif kind == 2:
            x = rnd.randint(-(10**6), 10**6) + 0.5
        elif kind == 3:
            x = rnd.randint(-(10**9), 10**9) / 2 ** rnd.randint(1, 40)
        elif kind == 4:
            x = rnd.uniform(-1, 1) * 10 ** rnd.randint(-30, 30)
        elif kind == 5:
            x = 1e21 * (1 + rnd.randint(-50, 50) * 2**-52)
        else:
            x = float(2**53 + rnd.randint(-20, 20)) * rnd.choice((1, -1, 0.5, 2**-20))
        out.append(x)
    return out


def _compare_grid(node_bridge: NodeBridge, py: str, js: str, xs: list, ys: list) -> None:
    js_outs = node_bridge.grid(js, xs, ys)
    fn = getattr(F, py)
    i = 0
    bad = []
    for x in xs:
        for y in ys:
            try:
                p = ("ok", fn(x, y))
            except F.MappingRuntimeError as e:
                p = ("err", e.message)
            if not agree(p, js_outs[i]):
                bad.append((x, y, p, js_outs[i]))
            i += 1
    assert not bad, f"{len(bad)} mismatches, first 5: {bad[:5]}"


def test_to_fixed_grid(node_bridge: NodeBridge) -> None:
    """20,000 doubles x digits 0..20 against Number.prototype.toFixed."""
    _compare_grid(node_bridge, "fixed", "__sm_fixed", _doubles(20_000), list(range(21)))


def test_round_grid(node_bridge: NodeBridge) -> None:
    _compare_grid(node_bridge, "round_", "__sm_round", _doubles(4_000, seed=7), list(range(0, 21, 2)))


def test_string_and_number_sweep(node_bridge: NodeBridge) -> None:
    """String(x) and Number(String(x)) for 20,000 doubles."""
    xs = _doubles(20_000, seed=99)
    calls = [("__sm_string", (x,)) for x in xs] + [("__sm_number", (F.string(x),)) for x in xs]
    js = node_bridge.calls(calls)
    py = [run_py("string", (x,)) for x in xs] + [run_py("number", (F.string(x),)) for x in xs]
    bad = [(c, p, j) for c, p, j in zip(calls, py, js, strict=True) if not agree(p, j)]
    assert not bad, bad[:5]
    assert all(F.number(F.string(x)) == x for x in xs)


def _code_point_blocks() -> list[str]:
    """Every non-surrogate code point, NUL-separated so each is cased alone."""
    blocks = []
    for start in range(0, 0x110000, 0x1000):
        cps = [c for c in range(start, start + 0x1000) if not 0xD800 <= c <= 0xDFFF and c != 0]
        blocks.append("\0".join(map(chr, cps)))
    return blocks


def test_case_mapping_every_code_point(node_bridge: NodeBridge) -> None:
    blocks = _code_point_blocks()
    for py, js in (("lower", "__sm_lower"), ("upper", "__sm_upper")):
        js_outs = node_bridge.calls((js, (b,)) for b in blocks)
        for b, j in zip(blocks, js_outs, strict=True):
            p = getattr(F, py)(b)
            if p != j[1]:
                parts = zip(b.split("\0"), p.split("\0"), j[1].split("\0"), strict=False)
                diffs = [(hex(ord(c)), x, y) for c, x, y in parts if x != y]
                raise AssertionError(f"{py} differs from JS on {diffs[:10]}")


def test_trim_set_bmp(node_bridge: NodeBridge) -> None:
    """Exactly the BMP characters JS trims are in JS_WHITESPACE (no astral
    character is WhiteSpace or a LineTerminator)."""
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    singles = node_bridge.calls([("__sm_trim", (c,)) for c in chars])
    js_ws = {c for c, o in zip(chars, singles, strict=True) if o[1] == ""}
    assert js_ws == set(F.JS_WHITESPACE)
    assert {c for c in chars if F.trim(c) == ""} == js_ws


def test_final_sigma_contexts(node_bridge: NodeBridge) -> None:
    """lower() of capital sigma next to characters whose casing properties
    changed after Python's Unicode version (random strings, one round trip)."""
    special = sorted(F._SIGMA_CASED | F._SIGMA_IGNORABLE | F._SIGMA_NEITHER)
    common = list("ΣΣΣσς Aa.'’:\u00ad\u0345\u0301\u200d_1İ\u02b0\u2071\U0001d400\u24b6\u1fbc")
    rnd = random.Random(5)
    strings = []
    for _ in range(20_000):
        alphabet = common + rnd.sample(special, 4)
        strings.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 7))))
    js = node_bridge.calls(("__sm_lower", (s,)) for s in strings)
    bad = [(s, F.lower(s), o[1]) for s, o in zip(strings, js, strict=True) if F.lower(s) != o[1]]
    assert not bad, bad[:5]
