"""Numbers and strings, byte for byte on both targets (docs/export-js.md, "Numbers and strings").

Every number a mapping emits, computed or passed through from the envelope,
must be written exactly as node's ``JSON.stringify`` writes the double
JavaScript holds: whole floats without ``.0``, ``-0`` as ``0``, no exponent in
[1e-6, 1e-5) or [1e16, 1e21), integers beyond 2**53 as the nearest double.
The envelope's JSON text is the same for both targets; bridge.compare checks
the payload bytes (Python's ``segmap.runtime.jsjson`` text against node's).
"""
from __future__ import annotations

import json
import random
import subprocess

import pytest

from segmap.runtime import jsjson
from segmap.samples import sample_envelope
from tests.js.bridge import Case, assert_agree

NUMBERS_CASE = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Numbers
      properties:
        passed: data.total_amount
        passed_in_object: {v: data.total_amount}
        passed_in_list: '[data.total_amount, data.tax]'
        metadata: data.metadata
        tiny: data.total_amount / 100000000
        scaled: data.total_amount * 1000000
        major: to_major(data.total_amount, "JPY")
        rounded: round(data.total_amount / 7, 2)
        number: number(string(data.total_amount))
        negated: -data.total_amount
        literal_float: 2.0
        literal_tiny: 0.000005
        literal_big: 10000000000000000
        keys: '{"b": 1, "10": 2, "2": 3, "a": data.tax}'
"""

ODD_NUMBERS = [0, -0.0, 1.0, 9007.0, 5e-6, 1e-6, 9.99e-6, 1e-7, 1e16, 1.5e16, 1e20, 1e21, 1.2345678901234567e20,
               2**53 - 1, 2**53, 2**53 + 1, 9007199254740993, 18446744073709551615, 2**64, 10**21, -(2**63),
               123456789012345680000, 0.1, 19.99, 500, 2**52 + 0.5, 4503599627370497.0, 1e300]


def _envelopes() -> list[dict]:
    out = []
    for i, n in enumerate(ODD_NUMBERS):
        env = sample_envelope("payment.succeeded", variant=i % 6)
        env["data"]["total_amount"] = n
        env["data"]["tax"] = ODD_NUMBERS[-1 - i]
        env["data"]["metadata"] = {"n": n, "nested": [n, {"x": -n if n else 0.0}], "7": "seven", "s": "x"}
        out.append(env)
    return out


def test_every_odd_number_is_sent_as_node_writes_it(node_bridge):
    stats = assert_agree(node_bridge, [Case("numbers", NUMBERS_CASE)], lambda c: _envelopes())
    assert stats["ok"] >= len(ODD_NUMBERS) - 6  # some amounts fail to_major (not whole): still compared


@pytest.fixture(scope="module")
def node_texts(node):
    """node's JSON.stringify of JSON.parse(text) for many number texts."""
    rnd = random.Random(17)
    texts = [json.dumps(x) for x in ODD_NUMBERS]
    for _ in range(4000):
        mant = rnd.random() * rnd.choice([1, 10, 1000])
        texts.append(repr(mant * 10.0 ** rnd.randint(-300, 300)))
        texts.append(str(rnd.randint(-(10**rnd.randint(1, 25)), 10**rnd.randint(1, 25))))
        texts.append(repr(float(rnd.randint(0, 2**60))))
        texts.append(repr(-rnd.random() * 10.0 ** rnd.randint(-8, -4)))
    texts = [t for t in texts if t not in ("inf", "-inf", "nan")]
    script = ("const lines = require('fs').readFileSync(0, 'utf8').split('\\n').filter(Boolean);"
              "process.stdout.write(lines.map(l => JSON.stringify(JSON.parse(l))).join('\\n') + '\\n');")
    out = subprocess.run([node, "-e", script], input="\n".join(texts) + "\n", capture_output=True, text=True,
                         check=True, timeout=60).stdout.split("\n")
    return list(zip(texts, out))


def test_number_text_is_json_stringify(node_texts):
    """jsjson.dumps of the value orjson/json parse from a text is node's text for the same JSON."""
    bad = [(t, jsjson.dumps(json.loads(t)), js) for t, js in node_texts
           if jsjson.dumps(json.loads(t)) != js.encode()]
    assert not bad, bad[:10]


def test_lone_surrogates_are_refused_by_both(node_bridge):
    """An envelope holding a lone surrogate anywhere (even where the mapping does not read) is refused by
    both targets at the mapping file: Python's JSON parser refuses it, the handler checks for it."""
    case = Case("surrogates", NUMBERS_CASE)
    bad = []
    for where in ("customer_name", "metadata_key", "unmapped"):
        env = sample_envelope("payment.succeeded" if where != "unmapped" else "refund.succeeded")
        if where == "metadata_key":
            env["data"]["metadata"] = {"a\ud800b": "x"}
        else:
            env["data"]["customer"]["name"] = "a\ud800b"
        bad.append(env)
    stats = assert_agree(node_bridge, [case], lambda c: bad, messages=True)
    assert stats["err"] == 3
