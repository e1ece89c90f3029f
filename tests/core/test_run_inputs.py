"""`segmap run` takes what `segmap sample` prints, in each of its forms, or says in one line
how to fix the input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "segmap" / "cli" / "starter.yaml"


def segmap(*argv, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "segmap", *map(str, argv)], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=60)


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    out = {}
    for t in ("payment.succeeded", "refund.succeeded"):
        r = segmap("sample", t)
        assert r.returncode == 0
        out[t] = r.stdout
    return out


def records(r: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_a_pretty_printed_sample_as_segmap_sample_prints_it(samples):
    assert samples["payment.succeeded"].count(b"\n") > 10  # really pretty-printed
    r = segmap("run", MAPPING, stdin=samples["payment.succeeded"])
    assert r.returncode == 0, r.stderr
    [rec] = records(r)
    assert rec["type"] == "payment.succeeded" and rec["calls"]


def test_several_pretty_printed_samples_one_after_the_other(samples):
    r = segmap("run", MAPPING, stdin=samples["payment.succeeded"] + samples["refund.succeeded"])
    assert r.returncode == 0, r.stderr
    assert [x["type"] for x in records(r)] == ["payment.succeeded", "refund.succeeded"]


def test_a_json_array_pretty_or_compact(samples):
    items = [json.loads(samples[t]) for t in ("payment.succeeded", "refund.succeeded")]
    for text in (json.dumps(items, indent=2), json.dumps(items)):
        r = segmap("run", MAPPING, stdin=text.encode())
        assert r.returncode == 0, r.stderr
        assert [x["type"] for x in records(r)] == ["payment.succeeded", "refund.succeeded"]


def test_json_lines_still_stream_and_a_bad_line_fails_alone():
    lines = segmap("sample", "--all").stdout.splitlines()
    r = segmap("run", MAPPING, stdin=b"\n".join(lines[:3] + [b"{not json"] + lines[3:5]) + b"\n")
    got = records(r)
    assert r.returncode == 1 and len(got) == 6
    assert "line 4: invalid JSON" in got[3]["error"]["message"]
    assert "1 envelope failed" in r.stderr.decode()


@pytest.mark.parametrize("bad", [b"hello\nworld\n", b'{"type": "payment.succeeded",\n  oops\n}\n', b"\xff\xfe\n"])
def test_anything_else_is_one_line_that_says_how_to_fix_it(bad):
    r = segmap("run", MAPPING, stdin=bad)
    err = r.stderr.decode().strip()
    assert r.returncode == 1 and r.stdout == b""
    assert len(err.splitlines()) == 1, err
    assert "segmap sample TYPE --line" in err and "JSON array" in err
