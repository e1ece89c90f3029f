"""The CLI as a user runs it: real processes, real files, exit codes."""
import json
import subprocess
import sys

import pytest

from segmap.samples import sample_envelope


def segmap(*args, input=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "segmap", *args], input=input, capture_output=True, text=True,
                          cwd=cwd, timeout=60)


def test_help_lists_commands():
    r = segmap("--help")
    assert r.returncode == 0
    for cmd in ("check", "run", "init"):
        assert cmd in r.stdout


def test_init_then_check_then_run(tmp_path):
    r = segmap("init", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "segmap.yaml").exists()
    assert segmap("init", cwd=tmp_path).returncode == 2  # refuses to overwrite
    (tmp_path / "segmap.yaml").write_text((tmp_path / "segmap.yaml").read_text() + "# edited\n")
    assert segmap("init", "--exist-ok", cwd=tmp_path).returncode == 0
    assert (tmp_path / "segmap.yaml").read_text().endswith("# edited\n")  # left alone
    r = segmap("check", "segmap.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    envs = [sample_envelope("payment.succeeded"), sample_envelope("refund.succeeded"), sample_envelope("subscription.active")]
    r = segmap("run", "segmap.yaml", input="".join(json.dumps(e) + "\n" for e in envs), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(line["type"], [c["call"] for c in line["calls"]]) for line in lines] == [
        ("payment.succeeded", ["track", "identify"]), ("refund.succeeded", []), ("subscription.active", ["track"])]
    assert lines[0]["calls"][0]["body"]["properties"]["payment_id"] == envs[0]["data"]["payment_id"]


def test_run_reports_failed_envelopes_and_continues(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.customer.customer_id\n"
                 "      properties:\n        revenue: to_major(data.total_amount, data.currency)\n")
    bad = sample_envelope("payment.succeeded")
    bad["data"]["currency"] = "XXX"
    good = sample_envelope("payment.succeeded")
    inp = json.dumps(bad) + "\nnot json\n[1]\n" + json.dumps(good) + "\n"
    inp_file = tmp_path / "in.jsonl"
    inp_file.write_text(inp)
    r = segmap("run", str(m), "--input", str(inp_file))
    assert r.returncode == 1
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == 4
    assert lines[0]["error"]["location"] == f"{m}:7:18" and "XXX" in lines[0]["error"]["message"]
    assert "invalid JSON" in lines[1]["error"]["message"]
    assert "error" in lines[2]
    assert lines[3]["calls"][0]["body"]["properties"]["revenue"] > 0
    assert "3 envelopes failed" in r.stderr


def test_check_exit_codes_and_formats(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.customer.customer_id\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.customer.customer_idd\n")
    assert segmap("check", str(good)).returncode == 0
    r = segmap("check", str(bad))
    assert r.returncode == 1
    assert f"{bad}:5:29" in r.stdout and "customer_id" in r.stdout and "^" in r.stdout
    assert "\x1b[" not in r.stdout  # no colour when not a terminal
    r = segmap("check", str(good), str(bad), "--format", "json")
    data = json.loads(r.stdout)
    assert [(d["code"], d["line"], d["column"]) for d in data["diagnostics"]] == [("E203", 5, 29)]
    r = segmap("check", str(bad), "--format", "github")
    assert r.stdout.startswith(f"::error file={bad},line=5,col=29")
    assert segmap("check", str(tmp_path / "missing.yaml")).returncode == 2
    assert segmap("check").returncode == 2


def test_check_coverage_lists_unmapped_events(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nevents:\n  payment.*:\n    - track: X\n      userId: data.customer.customer_id\n")
    r = segmap("check", str(good), "--coverage")
    assert r.returncode == 0
    assert "4 of 48 Dodo event types mapped" in r.stdout
    assert "unmapped: refund.succeeded" in r.stdout and "unmapped: payment.failed" not in r.stdout


def test_run_with_broken_mapping_shows_diagnostics(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nevents:\n  payment.succeded: []\n")
    r = segmap("run", str(bad), input="")
    assert r.returncode == 1 and "E201" in r.stderr


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"", b"- a\n- b\n", b"version: 1\nevents: [\n"])
def test_check_never_crashes_on_garbage(tmp_path, content):
    f = tmp_path / "x.yaml"
    f.write_bytes(content)
    r = segmap("check", str(f))
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_sample_line_pipes_into_run(tmp_path):
    assert segmap("init", cwd=tmp_path).returncode == 0
    sample = segmap("sample", "payment.succeeded", "--line")
    assert sample.returncode == 0 and sample.stdout.count("\n") == 1
    r = segmap("run", "segmap.yaml", input=sample.stdout, cwd=tmp_path)
    assert r.returncode == 0
    (line,) = [json.loads(x) for x in r.stdout.splitlines()]
    assert [c["call"] for c in line["calls"]] == ["track", "identify"]
