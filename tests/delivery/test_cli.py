"""`segmap outbox ...` end to end: real database files, a real (fake) Segment, exit codes."""
from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import segmap
from segmap.cli.main import main
from segmap.runtime.calls import Call
from segmap.delivery.message import message_id_for
from segmap.delivery.outbox import SqliteOutbox
from tests.delivery.conftest import WRITE_KEY, calls_for, fill
from tests.fakes.fake_segment import Status

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "outbox.db"
    SqliteOutbox(path).close()
    return path


def run(capsys, *argv, env_key: str | None = None, monkeypatch=None):
    if monkeypatch is not None:
        if env_key is None:
            monkeypatch.delenv("SEGMENT_WRITE_KEY", raising=False)
        else:
            monkeypatch.setenv("SEGMENT_WRITE_KEY", env_key)
    try:
        code = main(["outbox", *map(str, argv)])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_help_explains_commands_and_exit_codes(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for word in ("status", "dead", "replay", "deliver", "exit codes"):
        assert word in out
    code, out, _ = run(capsys, "deliver", "--help")
    assert code == 0 and "SEGMENT_WRITE_KEY" in out and "--region" in out and "--once" in out


def test_missing_database_is_an_io_error_and_is_not_created(capsys, tmp_path):
    path = tmp_path / "nope.db"
    for action in ("status", "dead", "replay", "deliver"):
        code, _, err = run(capsys, action, "--db", path)
        assert code == 2 and "no outbox database" in err
    assert not path.exists()


def test_usage_errors_exit_2(capsys, db, tmp_path, monkeypatch):
    assert run(capsys, "dead", "--db", db, "--since", "yesterday-ish")[0] == 2
    assert run(capsys, "deliver", "--db", db, "--region", "apac")[0] == 2
    assert run(capsys, "deliver", "--db", db, "--host", "ftp.example")[0] == 2
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEGMAP_DB", raising=False)
    assert run(capsys, "status")[0] == 2  # the default segmap.db is not there


def test_status_clean_then_with_problems(capsys, db):
    store = SqliteOutbox(db)
    fill(store, 2)
    code, out, _ = run(capsys, "status", "--db", db)
    assert code == 0
    assert "pending" in out and " 4" in out and "delivery: not paused" in out
    store.set_paused("Segment refused the write key (HTTP 401)")
    store.quarantine("msg_q", "payment.failed", b"{}", "KeyError", "m.yaml:3:1")
    code, out, _ = run(capsys, "status", "--db", db, "--format", "json")
    data = orjson.loads(out)
    assert code == 1
    assert data["counts"] == {"pending": 4, "in_flight": 0, "delivered": 0, "dead": 0}
    assert data["paused"]["reason"].endswith("(HTTP 401)") and data["quarantined_open"] == 1
    assert data["oldest_pending_age_seconds"] >= 0
    store.close()


def _with_dead(db) -> SqliteOutbox:
    store = SqliteOutbox(db)
    fill(store, 2)
    store.accept("msg_r", "refund.succeeded", b"{}", calls_for(7))
    rows = store.claim(100, 30)
    pay = [r.id for r in rows if r.event_type == "payment.succeeded"]
    ref = [r.id for r in rows if r.event_type == "refund.succeeded"]
    store.dead(pay, "retry budget of 24h spent; last error: HTTP 503", token=rows[0].token)
    store.dead(ref, "rejected by Segment: HTTP 400: bad", token=rows[0].token)
    return store


def test_dead_lists_reasons_in_text_and_json_with_filters(capsys, db):
    store = _with_dead(db)
    code, out, _ = run(capsys, "dead", "--db", db)
    assert code == 1 and "6 dead letter(s)" in out and "rejected by Segment: HTTP 400: bad" in out
    code, out, _ = run(capsys, "dead", "--db", db, "--format", "json", "--event-type", "refund.succeeded")
    rows = orjson.loads(out)
    assert code == 1 and {r["message_id"] for r in rows} == {message_id_for("msg_r", 0), message_id_for("msg_r", 1)}
    assert all(r["replayable"] for r in rows)
    code, out, _ = run(capsys, "dead", "--db", db, "--reason", "no such reason")
    assert code == 0 and "no dead letters" in out
    code, out, _ = run(capsys, "dead", "--db", db, "--since", "1h", "--limit", "1", "--format", "json")
    assert len(orjson.loads(out)) == 1
    store.close()


def test_replay_requeues_only_matching_dead_letters(capsys, db):
    store = _with_dead(db)
    code, out, _ = run(capsys, "replay", "--db", db, "--reason", "budget")
    assert code == 0 and "re-queued 4 dead letter(s)" in out
    assert store.counts() == {"pending": 4, "in_flight": 0, "delivered": 0, "dead": 2}
    code, out, _ = run(capsys, "replay", "--db", db, "--event-type", "refund.succeeded")
    assert code == 0 and "re-queued 2" in out and store.counts()["dead"] == 0
    store.close()


def test_replay_reports_dead_letters_that_cannot_be_resent(capsys, db):
    store = SqliteOutbox(db)
    store.accept("msg_nan", "payment.succeeded", b"{}", [Call("track", {"userId": "u", "event": "E", "properties": {"x": float("nan")}})])
    code, out, _ = run(capsys, "replay", "--db", db)
    assert code == 1 and "cannot be sent as stored" in out and store.counts()["dead"] == 1
    store.close()


class FakeMapping:
    """Stand-in for segmap.compile_file(...): fails on envelopes without a customer."""

    def __init__(self, path):
        self.path = path

    def apply(self, envelope):
        customer = envelope["data"]["customer"]  # KeyError when missing, as a broken mapping would
        return [Call("identify", {"userId": customer}), Call("track", {"userId": customer, "event": "Order Completed"})]


def test_replay_with_a_mapping_reruns_quarantined_envelopes(capsys, db, tmp_path, monkeypatch):
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text("version: 1\n")
    monkeypatch.setattr(segmap, "compile_file", FakeMapping)
    store = SqliteOutbox(db)
    store.quarantine("msg_a", "payment.succeeded", orjson.dumps({"type": "payment.succeeded", "data": {"customer": "c1"}}),
                     "KeyError: customer", "m.yaml:3:1")
    store.quarantine("msg_b", "payment.succeeded", orjson.dumps({"type": "payment.succeeded", "data": {}}),
                     "KeyError: customer", "m.yaml:3:1")
    store.quarantine("msg_c", "payment.failed", b"not json", "x", "m.yaml:3:1")
    code, out, err = run(capsys, "replay", "--db", db, "--mapping", mapping_file)
    assert code == 1  # msg_b still fails, msg_c is not JSON
    assert "3 re-run, 1 resolved (2 call(s) queued), 2 still failing" in out
    assert "msg_b" in err and "KeyError" in err
    assert {r.message_id for r in store.peek(10)} == {message_id_for("msg_a", 0), message_id_for("msg_a", 1)}
    assert {q.webhook_id for q in store.list_quarantine()} == {"msg_b", "msg_c"}
    code, out, _ = run(capsys, "replay", "--db", db, "--mapping", mapping_file, "--event-type", "payment.failed")
    assert "1 re-run, 0 resolved" in out
    store.close()


BROKEN = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        order_id: data.payment_id
        ratio: data.total_amount / data.tax
"""


def test_replay_with_the_real_compiler(capsys, db, tmp_path):
    """Uses segmap.compile_file for real: quarantine from a failing mapping, replay after the fix."""
    broken, fixed = tmp_path / "broken.yaml", tmp_path / "fixed.yaml"
    broken.write_text(BROKEN)
    fixed.write_text(BROKEN.replace("ratio: data.total_amount / data.tax", "total: data.total_amount"))
    mapping = segmap.compile_file(broken)
    envelope = {"business_id": "b", "type": "payment.succeeded", "timestamp": "2025-01-01T00:00:00Z",
                "data": {"payment_id": "pay_1", "total_amount": 1999, "tax": 0, "customer": {"customer_id": "cus_1"}}}
    store = SqliteOutbox(db)
    with pytest.raises(Exception) as info:
        mapping.apply(envelope)
    store.quarantine("msg_z", envelope["type"], orjson.dumps(envelope), str(info.value), getattr(info.value, "location", ""))
    code, out, _ = run(capsys, "replay", "--db", db, "--mapping", broken)
    assert code == 1 and "0 resolved" in out
    code, out, _ = run(capsys, "replay", "--db", db, "--mapping", fixed)
    assert code == 0 and "1 resolved (1 call(s) queued)" in out
    (row,) = store.peek(10)
    item = orjson.loads(row.payload)
    assert item["messageId"] == message_id_for("msg_z", 0) and item["properties"] == {"order_id": "pay_1", "total": 1999}
    store.close()


def test_replay_mapping_errors(capsys, db, tmp_path):
    assert run(capsys, "replay", "--db", db, "--mapping", tmp_path / "missing.yaml")[0] == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nevents:\n  payment.succeeded:\n    - track: 12\n      userId: nope(\n")
    code, _, err = run(capsys, "replay", "--db", db, "--mapping", bad)
    assert code == 1 and "does not compile" in err


def test_deliver_without_a_key_is_a_dry_run_that_changes_nothing(capsys, db, tmp_path, monkeypatch):
    store = SqliteOutbox(db)
    expected = fill(store, 3)
    out_file = tmp_path / "dry.jsonl"
    code, _, err = run(capsys, "deliver", "--db", db, "--dry-run-file", out_file, monkeypatch=monkeypatch)
    assert code == 0 and "DRY RUN" in err and "6 call(s)" in err
    lines = [orjson.loads(x) for x in out_file.read_bytes().splitlines()]
    assert {x["messageId"] for x in lines} == expected
    assert all(x["sentAt"] and x["type"] in ("track", "identify") for x in lines)
    assert store.counts()["pending"] == 6  # nothing claimed, nothing marked delivered
    code, out, err = run(capsys, "deliver", "--db", db, "--dry-run-file", "-", monkeypatch=monkeypatch)
    assert code == 0 and len(out.splitlines()) == 6
    store.close()


def test_deliver_once_delivers_and_never_prints_the_key(capsys, db, fake, monkeypatch):
    store = SqliteOutbox(db)
    expected = fill(store, 5)
    code, out, err = run(capsys, "deliver", "--db", db, "--host", fake.url, "--once", env_key=WRITE_KEY,
                         monkeypatch=monkeypatch)
    assert code == 0, err
    assert fake.received_ids == expected and store.counts()["delivered"] == 10
    assert "delivered 10 call(s)" in err
    basic = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    assert WRITE_KEY not in out + err and basic not in out + err
    store.close()


def test_deliver_once_with_a_refused_key_pauses_and_exits_1(capsys, db, fake, monkeypatch):
    store = SqliteOutbox(db)
    fill(store, 2)
    code, out, err = run(capsys, "deliver", "--db", db, "--host", fake.url, "--once", "--write-key", "wk_wrong_8d1e",
                         monkeypatch=monkeypatch)
    assert code == 1 and "DELIVERY PAUSED" in err and "wk_wrong_8d1e" not in out + err
    assert store.counts() == {"pending": 4, "in_flight": 0, "delivered": 0, "dead": 0}
    code, out, _ = run(capsys, "status", "--db", db)
    assert code == 1 and "PAUSED" in out
    assert run(capsys, "deliver", "--db", db, "--host", fake.url, "--once", env_key=WRITE_KEY, monkeypatch=monkeypatch)[0] == 0
    code, out, _ = run(capsys, "status", "--db", db)
    assert code == 0 and "not paused" in out
    store.close()


def test_an_upstream_that_echoes_the_authorization_header_never_gets_the_key_printed_or_stored(
        capsys, db, fake, monkeypatch):
    """A proxy or debugging endpoint that echoes the request's Authorization header in its 401/5xx
    body: that body becomes the pause reason and dead/retry reasons (database, `status`, /readyz,
    logs). The key must be scrubbed from it at the source."""
    store = SqliteOutbox(db)
    fill(store, 2)
    basic = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()

    def echo(code):
        return lambda req: Status(code, body=orjson.dumps(
            {"message": "refused", "you_sent": req["headers"].get("authorization", ""),
             "escaped": req["headers"].get("authorization", "").replace("/", "\\/"), "key": WRITE_KEY}))

    fake.on_request = echo(401)
    code, out, err = run(capsys, "deliver", "--db", db, "--host", fake.url, "--once", env_key=WRITE_KEY,
                         monkeypatch=monkeypatch)
    assert code == 1 and "DELIVERY PAUSED" in err and "[REDACTED]" in err
    paused = store.paused()
    assert paused is not None and "refused" in paused.reason
    code, status_out, _ = run(capsys, "status", "--db", db, "--format", "json")
    fake.on_request = echo(503)
    run(capsys, "deliver", "--db", db, "--host", fake.url, "--once", env_key=WRITE_KEY, monkeypatch=monkeypatch)
    errors = [e for (e,) in store._conn().execute("SELECT last_error FROM outbox WHERE last_error IS NOT NULL")]
    assert errors and all("[REDACTED]" in e for e in errors)
    for text in (out, err, status_out, paused.reason, *errors):
        assert WRITE_KEY not in text and basic not in text and basic.rstrip("=") not in text
        assert basic.replace("/", "\\/") not in text
    assert store.counts()["dead"] == 0
    store.close()


def test_deliver_runs_until_sigterm_and_leaves_nothing_in_flight(db, fake):
    store = SqliteOutbox(db)
    expected = fill(store, 20)
    env = {**os.environ, "SEGMENT_WRITE_KEY": WRITE_KEY, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "segmap", "outbox", "deliver", "--db", str(db), "--host", fake.url],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert fake.wait_for_ids(expected, timeout=20)
        more = fill(store, 5, prefix="late_")  # picked up by the running worker
        assert fake.wait_for_ids(more, timeout=20)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "delivered 50 call(s)" in err and WRITE_KEY not in out + err
    assert store.counts() == {"pending": 0, "in_flight": 0, "delivered": 50, "dead": 0}
    store.close()
