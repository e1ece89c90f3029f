"""Sample data and dry-run calls never reach a live Segment source without an explicit decision.

The calls of a webhook accepted in a dry run (no write key) are held ("dry_run"); everything
`segmap send` posts, and anything signed with the development secret, is test traffic ("test").
A live start delivers neither, says so, and `segmap outbox release|discard KIND` decides.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import orjson

from segmap.cli.main import main as cli
from segmap.delivery.outbox import SqliteOutbox
from tests.delivery.conftest import calls_for
from tests.fakes.fake_segment import FakeSegment
from tests.service.conftest import (
    ROOT,
    SECRET,
    WRITE_KEY,
    Signer,
    envelope,
    expected_message_ids,
    fast_delivery,
    post,
)

# what a machine with nothing configured has: the README's quick start
BARE_ENV = {"DODO_WEBHOOK_SECRET": "", "DODO_PAYMENTS_WEBHOOK_KEY": "", "SEGMENT_WRITE_KEY": "", "SEGMAP_DB": "",
            "SEGMENT_HOST": "", "SEGMENT_REGION": "", "SEGMAP_CONFIG": ""}
GRACE = 1.5  # a running delivery worker claims due rows within milliseconds; held ones never


def segmap(*argv, cwd, env=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "segmap", *map(str, argv)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **BARE_ENV,
                                                           **(env or {})})


def send_sample(cwd, url, *extra, env=None) -> str:
    r = segmap("send", "payment.succeeded", "--url", url, *extra, cwd=cwd, env=env)
    assert r.returncode == 0, r.stderr
    status, wid, answer = r.stdout.strip().split(" ", 2)
    assert status == "200" and orjson.loads(answer)["held"] == "test"
    return wid


def stop(svc) -> None:
    svc.signal(signal.SIGTERM)
    assert svc.wait(15) == 0


def test_readme_quick_start_then_adding_the_write_key_sends_no_sample(tmp_path, spawn):
    # 1. the README: segmap init && segmap serve segmap.yaml (dry run, development secret)
    assert segmap("init", "--exist-ok", cwd=tmp_path).returncode == 0
    db = tmp_path / "segmap.db"
    svc = spawn(tmp_path / "segmap.yaml", db, env=BARE_ENV).start()
    # 2. "in a second terminal, segmap send payment.succeeded"
    wid = send_sample(tmp_path, svc.webhook_url)
    stop(svc)
    # 3. now add the write key (the same database, the same directory)
    with FakeSegment(write_keys={WRITE_KEY}) as fake:
        svc = spawn(tmp_path / "segmap.yaml", db,
                    env={**BARE_ENV, "SEGMENT_WRITE_KEY": WRITE_KEY, "SEGMENT_HOST": fake.url}).start()
        assert svc.wait_for(lambda line: "HELD" in line and "segmap outbox release test" in line, 10), svc.output
        time.sleep(GRACE)
        assert fake.requests == [] and fake.received_ids == set()
        # a sample sent to the live service is held too
        wid2 = send_sample(tmp_path, svc.webhook_url)
        time.sleep(GRACE)
        assert fake.requests == []
        status = segmap("outbox", "status", cwd=tmp_path)
        assert status.returncode == 1 and "HELD (test traffic): 4 call(s)" in status.stdout
        assert "next attempt" not in status.stdout  # nothing is due: everything pending is held
        # the positive control: an explicit release of one sample is delivered by the running service
        r = segmap("outbox", "release", "test", "--webhook-id", wid, cwd=tmp_path)
        assert r.returncode == 0 and "released 2 held call(s)" in r.stdout
        assert fake.wait_for(lambda f: f.received_ids == {f"segmap-{wid}-0", f"segmap-{wid}-1"}, 10)
        r = segmap("outbox", "discard", "test", cwd=tmp_path)
        assert r.returncode == 0 and "discarded 2 held call(s)" in r.stdout
        time.sleep(GRACE)
        assert not any(wid2 in m for m in fake.received_ids)
        stop(svc)
    assert segmap("outbox", "status", cwd=tmp_path).returncode == 0


def test_started_dry_restarted_live_holds_real_webhooks_until_released(tmp_path, spawn, mapping_file):
    db = tmp_path / "segmap.db"
    env = {**BARE_ENV, "DODO_WEBHOOK_SECRET": SECRET}
    svc = spawn(mapping_file, db, env=env).start()
    bodies = [("msg_dry_1", envelope(1)), ("msg_dry_2", envelope(2))]
    for wid, body in bodies:
        r = post(svc.webhook_url, body, Signer(SECRET).headers(wid, body))
        assert r.status_code == 200 and r.json()["held"] == "dry_run"
    stop(svc)
    with FakeSegment(write_keys={WRITE_KEY}) as fake:
        live_env = {**env, "SEGMENT_WRITE_KEY": WRITE_KEY, "SEGMENT_HOST": fake.url}
        svc = spawn(mapping_file, db, env=live_env).start()
        assert svc.wait_for(lambda line: "accepted during a dry run are HELD" in line, 10), svc.output
        line = svc.find(lambda line: "accepted during a dry run are HELD" in line)
        assert "segmap outbox release dry-run" in line and "segmap outbox discard dry-run" in line
        # a real webhook arriving now is delivered at once; the held ones are not
        live_body = envelope(3)
        assert post(svc.webhook_url, live_body, Signer(SECRET).headers("msg_live", live_body)).json().get("held") is None
        live_ids = expected_message_ids(mapping_file, [("msg_live", live_body)])
        assert fake.wait_for(lambda f: f.received_ids == live_ids, 10)
        time.sleep(GRACE)
        assert fake.received_ids == live_ids
        r = segmap("outbox", "release", "dry-run", "--db", db, cwd=tmp_path)
        assert r.returncode == 0 and "released 4" in r.stdout
        assert fake.wait_for(lambda f: f.received_ids == live_ids | expected_message_ids(mapping_file, bodies), 10)
        stop(svc)
    assert fake.duplicates() == {}


def test_send_to_a_live_service_with_the_real_secret_is_still_test_traffic(live, fake, tmp_path):
    svc = live(delivery_config=fast_delivery())
    r = segmap("send", "refund.succeeded", "--url", svc.webhook_url, "--secret", SECRET, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    wid = r.stdout.split(" ", 2)[1]
    real = envelope(4, event_type="refund.succeeded")
    assert post(svc.webhook_url, real, Signer(SECRET).headers("msg_real", real)).status_code == 200
    assert fake.wait_for(lambda f: f.received_ids == {"segmap-msg_real-0"}, 10)
    time.sleep(GRACE)
    assert fake.received_ids == {"segmap-msg_real-0"}
    assert svc.store.held_counts() == {"test": 1}
    assert [r.webhook_id for r in svc.store.list_held()] == [wid]
    text = httpx.get(f"{svc.admin_url}/metrics", timeout=5).text
    assert 'segmap_outbox_held{hold="test"} 1' in text and 'segmap_outbox_held{hold="dry_run"} 0' in text
    assert "segmap_outbox_depth 0" in text  # held calls are not a delivery backlog


def test_a_quarantined_test_webhook_stays_held_after_the_mapping_is_fixed(tmp_path, capsys):
    from tests.service.conftest import FIXED_MAPPING

    store = SqliteOutbox(tmp_path / "o.db")
    store.quarantine("msg_send_x", "payment.succeeded", envelope(5), "boom", "m.yaml:1:1", hold="test")
    store.close()
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(FIXED_MAPPING)
    assert cli(["outbox", "replay", "--db", str(tmp_path / "o.db"), "--mapping", str(fixed)]) == 0
    capsys.readouterr()
    store = SqliteOutbox(tmp_path / "o.db")
    assert store.held_counts() == {"test": 2} and store.claim(10, 30) == []
    store.close()


def test_outbox_held_lists_and_release_needs_a_kind(tmp_path, capsys):
    db = tmp_path / "o.db"
    store = SqliteOutbox(db)
    store.accept("msg_a", "payment.succeeded", b"{}", [], hold="dry_run")
    store.accept("msg_b", "payment.succeeded", b"{}", calls_for(1), hold="dry_run")
    store.accept("msg_c", "payment.succeeded", b"{}", calls_for(2), hold="test")
    store.close()
    assert cli(["outbox", "held", "--db", str(db), "--format", "json"]) == 1
    data = orjson.loads(capsys.readouterr().out)
    assert data["counts"] == {"dry_run": 2, "test": 2}
    assert {c["webhook_id"] for c in data["calls"]} == {"msg_b", "msg_c"}
    try:
        code = cli(["outbox", "release", "--db", str(db)])
    except SystemExit as exc:
        code = exc.code
    assert code == 2  # no KIND: no decision
    assert cli(["outbox", "release", "dry-run", "--db", str(db)]) == 0
    assert "released 2 held call(s)" in capsys.readouterr().out
    assert cli(["outbox", "held", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "msg_c" in out and "msg_b" not in out and "segmap outbox release test" in out
    assert cli(["outbox", "discard", "all", "--db", str(db)]) == 0
    assert cli(["outbox", "held", "--db", str(db)]) == 0
    store = SqliteOutbox(db)
    assert store.accept("msg_c", "payment.succeeded", b"{}", calls_for(2)).duplicate  # the inbox remembers it
    assert len(store.claim(10, 30)) == 2  # msg_b's, released
    store.close()
