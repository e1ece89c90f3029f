"""Run one mapping on both targets and compare: Python ``apply`` vs the exported JS handler.

The session's one node process (``tests/support/node.py``) runs each
batch of jobs (handler source + webhooks) in one round trip, so a test or a
Hypothesis example never costs one node start per envelope.

An outcome is ``("ok", {"cancel": True} | {"url", "payload"}, "", bytes)`` or
``("err", location, message)``. Python's outcome is computed from the
envelope's JSON text (``apply_json``, as the service gets it) and predicted
from its calls with :func:`svix_result` (the tests' oracle for what the
handler does, kept here so segmap's own code cannot grade itself); JS's is
read off the webhook the handler returned. They must be equal under
``json_same`` (tests/support/json_equal.py) and the payload bytes must be
identical: Python's ``segmap.runtime.jsjson.dumps`` text against node's
``JSON.stringify`` text (docs/export-js.md, "Numbers and strings").
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

import segmap
from segmap.compiler import jsgen
from segmap.runtime import jsjson
from segmap.runtime.values import MappingRuntimeError
from tests.support.json_equal import json_same
from tests.support.node import NodeBridge

HOST = jsgen.REGION_HOSTS["us"]
ORIGINAL_URL = "https://in.example.invalid/dodo"


def webhook_for(envelope: Any, event_type: str | None = None) -> dict:
    """The Svix transformation input for one Dodo envelope."""
    et = event_type if event_type is not None else envelope["type"]
    return {"method": "POST", "url": ORIGINAL_URL, "eventType": et, "payload": envelope}


def _roundtrip(value: Any) -> Any:
    """A value as the HTTP request would carry it."""
    return json.loads(json.dumps(value, allow_nan=False))


def svix_result(calls, host: str = HOST) -> dict:
    """What the exported handler should make of a webhook, predicted from Python calls.

    ``{"cancel": True}`` for no calls, else ``{"url", "payload"}``: one call's
    body to its own endpoint, or several as ``{"batch": [{"type": ..., ...}]}``.
    """
    if not calls:
        return {"cancel": True}
    if len(calls) == 1:
        return {"url": host + calls[0].call, "payload": calls[0].body}
    return {"url": host + "batch", "payload": {"batch": [{"type": c.call, **c.body} for c in calls]}}


def envelope_text(envelope: Any) -> str:
    """The one JSON text of an envelope both targets parse (JS inside the webhook, Python on its own)."""
    return json.dumps(envelope, ensure_ascii=True, allow_nan=False)


def py_outcome(compiled, envelope: dict) -> tuple[str, Any, str]:
    """Python's outcome for the envelope's JSON text, as the service gets it (``apply_json``); an ok
    outcome with a request carries the exact bytes segmap would send as its fourth item."""
    try:
        calls = compiled.apply_json(envelope_text(envelope))
    except MappingRuntimeError as exc:
        return ("err", exc.location, exc.message)
    result = svix_result(calls, HOST)
    if "payload" not in result:
        return ("ok", result, "")
    try:
        text = jsjson.dumps(result["payload"], normalized=True)
    except jsjson.EncodeError as exc:
        return ("err", compiled.file, exc.message)
    return ("ok", _roundtrip(result), "", text)  # type: ignore[return-value]


def js_outcome(result: dict) -> tuple[str, Any, str]:
    if "bad" in result:
        raise AssertionError("handler returned a value JSON would misrepresent: " + result["bad"])
    if "err" in result:
        err = result["err"]
        assert err["name"] == "MappingRuntimeError", err
        loc = err.get("location") or ""
        assert err["message"].startswith(loc + ": "), err
        return ("err", loc, err["message"][len(loc) + 2:])
    w = result["ok"]
    if w.get("cancel") is True:
        assert w["url"] == ORIGINAL_URL, "a cancelled webhook keeps its url"
        return ("ok", {"cancel": True}, "")
    assert w.get("method") == "POST" and "cancel" not in w, w
    return ("ok", {"url": w["url"], "payload": w["payload"]}, "", result["text"].encode("utf-8"))  # type: ignore[return-value]


@dataclass
class Case:
    """A mapping to run on both targets; ``name`` identifies it in failures."""

    name: str
    text: str
    filename: str = "case.yaml"
    compiled: Any = field(default=None, repr=False)
    js: str = field(default="", repr=False)

    def build(self) -> "Case":
        if self.compiled is None:
            self.compiled = segmap.compile_source(self.text, self.filename)
            self.js = jsgen.export_source(self.text, self.filename).source
        return self


@dataclass
class Mismatch:
    case: str
    envelope: dict
    py: tuple
    js: tuple

    def __str__(self) -> str:
        env = json.dumps(self.envelope, ensure_ascii=True)
        return f"[{self.case}] {self.envelope.get('type')!r}: py={self.py!r}\n js={self.js!r}\n envelope={env[:3000]}"


def compare(runner: NodeBridge, cases: Iterable[Case], envelopes_of, *, messages: bool = False) -> tuple[list[Mismatch], dict]:
    """Run every case over ``envelopes_of(case)`` on both targets; the mismatches and outcome counts."""
    built = [c.build() for c in cases]
    batches = [list(envelopes_of(c)) for c in built]
    results = runner.run([(c.js, [webhook_for(e) for e in envs]) for c, envs in zip(built, batches)])
    bad: list[Mismatch] = []
    stats = {"ok": 0, "err": 0, "cancel": 0, "message_diffs": []}
    for case, envs, res in zip(built, batches, results):
        for env, r in zip(envs, res):
            p = py_outcome(case.compiled, env)
            j = js_outcome(r)
            stats["err" if p[0] == "err" else "cancel" if p[1] == {"cancel": True} else "ok"] += 1
            if (p[0] != j[0] or (p[0] == "ok" and not json_same(p[1], j[1])) or (p[0] == "err" and p[1] != j[1])
                    or (p[0] == "ok" and p[3:] != j[3:])):  # the bytes sent, when a request is sent
                bad.append(Mismatch(case.name, env, p, j))
            elif p[0] == "err" and p[2] != j[2]:
                stats["message_diffs"].append((case.name, p[2], j[2]))
                if messages:
                    bad.append(Mismatch(case.name, env, p, j))
    return bad, stats


def assert_agree(runner: NodeBridge, cases: Iterable[Case], envelopes_of, **kw) -> dict:
    bad, stats = compare(runner, cases, envelopes_of, **kw)
    assert not bad, f"{len(bad)} mismatches; first:\n{bad[0]}"
    return stats
