"""`segmap outbox status --check`, `resume`, and the read-only commands on a read-only disk."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import orjson
import pytest

from segmap.delivery.outbox import SqliteOutbox
from tests.delivery.conftest import WRITE_KEY, Clock, fast_policy, fill
from tests.delivery.test_cli import run
from tests.fakes.fake_segment import Status


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    for var in ("SEGMENT_WRITE_KEY", "SEGMAP_DB", "SEGMAP_CONFIG", "SEGMAP_MAX_UNDELIVERED_AGE", "SEGMAP_MAX_DEAD",
                "SEGMAP_MAX_QUARANTINED", "SEGMENT_HOST", "SEGMENT_REGION"):
        monkeypatch.delenv(var, raising=False)


# --- a read-only file system ---

@pytest.fixture
def readonly_dir(tmp_path):
    """A directory nobody can write to, with a function that makes it so. As root (CI), a
    tmpfs remounted read-only: permission bits do not stop root. Otherwise chmod."""
    target = tmp_path / "ro"
    target.mkdir()
    mounted = False
    if os.geteuid() == 0:
        if shutil.which("mount") is None or subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(target)], capture_output=True).returncode:
            pytest.skip("running as root without permission to mount a tmpfs: cannot make a read-only disk")
        mounted = True

    def freeze() -> None:
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True)
        else:
            for p in target.iterdir():
                p.chmod(0o444)
            target.chmod(0o555)

    yield target, freeze
    if mounted:
        subprocess.run(["umount", str(target)], check=False)
    else:
        target.chmod(0o755)


def test_status_and_dead_work_on_a_read_only_disk(capsys, readonly_dir):
    target, freeze = readonly_dir
    path = target / "outbox.db"
    store = SqliteOutbox(path)
    fill(store, 3)
    rows = store.claim(2, 30)
    store.dead([r.id for r in rows], "rejected by Segment: HTTP 400: bad", token=rows[0].token)
    store.record_delivery_error("HTTP 400: bad")
    store.close()
    freeze()
    with pytest.raises(OSError):
        (target / "probe").write_text("x")  # really read-only
    code, out, err = run(capsys, "status", "--db", path)
    assert code == 1, err  # dead letters: problems, not an I/O error
    assert re.search(r"^\s+dead\s+2$", out, re.M) and re.search(r"^\s+pending\s+4$", out, re.M)
    assert "last delivery error" in out and "HTTP 400" in out
    code, out, err = run(capsys, "status", "--db", path, "--format", "json")
    data = orjson.loads(out)
    assert data["counts"]["dead"] == 2 and data["counts"]["pending"] == 4
    code, out, err = run(capsys, "dead", "--db", path)
    assert code == 1 and "2 dead letter(s)" in out and "attempts=1" in out
    assert sorted(p.name for p in target.iterdir()) == ["outbox.db"]  # nothing was created


# --- status --check ---

def make_store(path: Path, clock: Clock) -> SqliteOutbox:
    return SqliteOutbox(path, clock=clock)


def test_status_check_passes_on_a_healthy_outbox_and_fails_past_each_threshold(capsys, tmp_path):
    path = tmp_path / "o.db"
    clock = Clock(time.time() - 3600)  # calls accepted an hour ago
    store = make_store(path, clock)
    fill(store, 1)
    store.close()
    # an hour-old undelivered call: over the 15 minute default
    code, out, _ = run(capsys, "status", "--db", path, "--check")
    assert code == 1 and "CHECK FAILED: the oldest undelivered call is 1h" in out
    code, out, _ = run(capsys, "status", "--db", path, "--check", "--max-undelivered-age", "2h")
    assert code == 0 and "check: ok" in out
    # without --check an outage with nothing dead or paused exits 0 (informational) ...
    code, out, _ = run(capsys, "status", "--db", path)
    assert code == 0
    # ... and the last delivery error is shown
    store = SqliteOutbox(path)
    store.record_delivery_error("HTTP 503: upstream down")
    store.close()
    code, out, _ = run(capsys, "status", "--db", path)
    assert "last delivery error: " in out and "failing for" in out and "HTTP 503: upstream down" in out
    # a pause fails the check whatever the age limit
    store = SqliteOutbox(path)
    store.set_paused("the Segment endpoint at http://x/v1/batch looks wrong (HTTP 404: nope)")
    store.close()
    code, out, _ = run(capsys, "status", "--db", path, "--check", "--max-undelivered-age", "2h")
    assert code == 1 and "CHECK FAILED: delivery is paused: the Segment endpoint" in out
    code, out, _ = run(capsys, "status", "--db", path, "--check", "--format", "json", "--max-undelivered-age", "2h")
    data = orjson.loads(out)
    assert code == 1 and data["check"]["ok"] is False and data["paused"]["kind"] == "endpoint"
    assert data["last_error"]["error"] == "HTTP 503: upstream down" and data["last_error"]["failing_since"]


def test_status_check_thresholds_for_dead_letters_and_quarantine(capsys, tmp_path, monkeypatch):
    path = tmp_path / "o.db"
    store = SqliteOutbox(path)
    fill(store, 1)
    rows = store.claim(10, 30)
    store.dead([rows[0].id], "rejected by Segment: HTTP 400: x", token=rows[0].token)
    store.ack([rows[1].id], token=rows[0].token)
    store.quarantine("msg_q", "payment.succeeded", b"{}", "division by zero", "m.yaml:1:1")
    store.close()
    code, out, _ = run(capsys, "status", "--db", path, "--check")
    assert code == 1 and "1 dead letter(s) (limit 0)" in out and "1 quarantined envelope(s) open (limit 0)" in out
    code, out, _ = run(capsys, "status", "--db", path, "--check", "--max-dead", "1", "--max-quarantined", "1")
    assert code == 0
    monkeypatch.setenv("SEGMAP_MAX_DEAD", "1")  # the thresholds are settings: environment and config file too
    monkeypatch.setenv("SEGMAP_MAX_QUARANTINED", "5")
    code, out, _ = run(capsys, "status", "--db", path, "--check")
    assert code == 0 and "check: ok" in out


# --- resume ---

def test_resume_without_a_key_clears_the_pause_so_running_workers_probe_now(capsys, tmp_path, fake, make_client,
                                                                             make_delivery):
    path = tmp_path / "shared.db"
    store = SqliteOutbox(path)
    expected = fill(store, 4)
    wrong = {"on": True}
    fake.on_request = lambda req: Status(401) if wrong["on"] else None
    delivery = make_delivery(make_client(), store_=store, workers=1, poll_interval=0.02,
                             policy=fast_policy(probe_first=3600.0, auth_probe_interval=3600.0))
    delivery.start()
    assert delivery.drain(timeout=10) is False
    code, out, _ = run(capsys, "status", "--db", path, "--check")
    assert code == 1 and "PAUSED" in out and "segmap outbox resume" in out
    wrong["on"] = False  # the key was fixed on Segment's side
    code, out, _ = run(capsys, "resume", "--db", path)
    assert code == 0 and "pause cleared" in out
    assert delivery.drain(timeout=10, stop_on_pause=False)  # long before the next scheduled probe (1 h)
    assert fake.received_ids == expected
    code, out, _ = run(capsys, "status", "--db", path, "--check")
    assert code == 0 and "delivery: not paused" in out
    code, out, _ = run(capsys, "resume", "--db", path)
    assert code == 0 and "not paused" in out


def test_resume_with_a_key_probes_itself_and_reports(capsys, tmp_path, fake, monkeypatch):
    path = tmp_path / "o.db"
    store = SqliteOutbox(path)
    fill(store, 2)
    store.set_paused("the Segment endpoint at x looks wrong (HTTP 404: no)")
    store.close()
    fake.on_request = lambda req: Status(404)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", WRITE_KEY)
    code, out, _ = run(capsys, "resume", "--db", path, "--segment-host", fake.url)
    assert code == 1 and "probe failed; delivery stays paused" in out and "HTTP 404" in out
    assert len(fake.requests) == 1 and len(fake.requests[0].message_ids) == 1
    check = SqliteOutbox(path)
    assert check.paused() is not None and check.counts()["dead"] == 0 and check.counts()["pending"] == 4
    check.close()
    fake.on_request = None
    code, out, _ = run(capsys, "resume", "--db", path, "--segment-host", fake.url)
    assert code == 0 and "probe delivered" in out
    check = SqliteOutbox(path)
    assert check.paused() is None and check.counts()["delivered"] == 1 and check.counts()["pending"] == 3
    check.close()


def test_status_reads_the_wal_a_killed_writer_left_on_a_read_only_disk(capsys, readonly_dir):
    """kill -9 leaves the WAL (and its index) un-checkpointed; the disk then turns read-only.
    `status` must still count what is only in the WAL."""
    import signal
    import sys

    target, freeze = readonly_dir
    path = target / "outbox.db"
    code = ("import os, signal\n"
            "from segmap.delivery.outbox import SqliteOutbox\n"
            "from tests.delivery.conftest import fill\n"
            f"s = SqliteOutbox({str(path)!r})\n"
            "fill(s, 5)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == -signal.SIGKILL
    assert (target / "outbox.db-wal").stat().st_size > 0  # the rows are in the WAL only
    freeze()
    code, out, err = run(capsys, "status", "--db", path, "--format", "json")
    assert code == 0, err
    data = orjson.loads(out)
    assert data["counts"]["pending"] == 10 and data["inbox"] == 5 and data["stale"] is False
