"""POST /webhook over real HTTP on 127.0.0.1: status codes, what is stored, what is counted."""
from __future__ import annotations

import asyncio
import sqlite3
import time

import httpx
import orjson
import pytest

from segmap.cli.main import main as cli
from segmap.delivery.message import message_id_for
from segmap.service.verification import Verifier
from tests.service.conftest import (
    FIXED_MAPPING,
    SECRET,
    SECRET_NEW,
    WRITE_KEY,
    LogCapture,
    Signer,
    assert_no_canaries,
    envelope,
    expected_message_ids,
    inbox_ids,
    outbox_ids,
    post,
    send_all,
)

signer = Signer()


def signed_post(svc, wid: str, body: bytes, **kw) -> httpx.Response:
    return post(svc.webhook_url, body, signer.headers(wid, body), **kw)


def nothing_stored(svc) -> bool:
    st = svc.store.status()
    return st.inbox == 0 and sum(st.counts.values()) == 0 and st.quarantined_open == 0


def metric(svc, name: str) -> float:
    text = httpx.get(f"{svc.admin_url}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise KeyError(name)


# --- the happy path and the ledger of one webhook ---

def test_accepted_webhook_is_committed_then_delivered(live, fake, mapping_file):
    svc = live()
    body = envelope(1)
    r = signed_post(svc, "msg_one", body)
    assert r.status_code == 200 and r.json() == {"status": "accepted", "webhook_id": "msg_one", "calls": 2}
    # committed before the answer: the rows are there now
    assert inbox_ids(svc.store) == {"msg_one"}
    expected = expected_message_ids(mapping_file, [("msg_one", body)])
    assert set(outbox_ids(svc.store)) == expected == {message_id_for("msg_one", 0), message_id_for("msg_one", 1)}
    assert fake.wait_for_ids(expected, timeout=10)
    assert fake.received_ids == expected and not fake.violations
    assert metric(svc, "segmap_webhooks_mapped_total") == 1
    assert metric(svc, "segmap_calls_delivered_total") == 2


# --- signatures over HTTP: 401 and nothing enqueued ---

def test_signature_matrix_over_http_rejects_401_and_stores_nothing(live):
    svc = live()
    body = envelope(2)
    good = signer.headers("msg_sig", body)
    cases = []
    for key in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        h = dict(good)
        v = h[key]
        h[key] = v[:-2] + ("A" if v[-2] != "A" else "B") + v[-1]
        cases.append((h, body))
    cases.append((good, body[:-2] + b" }"))
    cases.append((good, body.replace(b"pay_2", b"pay_3")))
    cases.append(({k: v for k, v in good.items() if k != "webhook-signature"}, body))
    cases.append(({**good, "webhook-signature": "v1,abc"}, body))  # the library would raise binascii.Error
    cases.append(({**good, "webhook-signature": "v1"}, body))  # ... and ValueError
    cases.append(({**good, "webhook-signature": "v1,a,b"}, body))
    cases.append(({**good, "webhook-timestamp": "1.5e9"}, body))
    cases.append(({**good, "webhook-id": "msg.dot"}, body))
    cases.append(({**good, "webhook-signature": "x" * 10_000}, body))
    cases.append((good, body + b"\xff"))
    for h, b in cases:
        r = post(svc.webhook_url, b, h)
        assert r.status_code == 401, (h, r.text)
        assert "reason" in r.json()
    assert nothing_stored(svc)
    assert metric(svc, "segmap_webhooks_mapped_total") == 0


def test_rotation_two_secrets_over_http(live):
    svc = live(secrets=(SECRET, SECRET_NEW))
    for i, s in enumerate((SECRET, SECRET_NEW)):
        b = envelope(10 + i)
        r = post(svc.webhook_url, b, Signer(s).headers(f"msg_rot_{i}", b))
        assert r.status_code == 200, r.text
    other = "whsec_" + "QUJD" * 8
    b = envelope(12)
    assert post(svc.webhook_url, b, Signer(other).headers("msg_rot_x", b)).status_code == 401
    assert inbox_ids(svc.store) == {"msg_rot_0", "msg_rot_1"}


def test_tolerance_edges_over_http(live):
    now = [1_800_000_000.0]
    svc = live(verifier=Verifier([SECRET], clock=lambda: now[0]))
    b = envelope(20)
    for off, code in ((300, 200), (-300, 200), (301, 401), (-301, 401)):
        wid = f"msg_tol_{off}"
        r = post(svc.webhook_url, b, signer.headers(wid, b, ts=int(now[0]) + off))
        assert r.status_code == code, (off, r.text)
    assert inbox_ids(svc.store) == {"msg_tol_300", "msg_tol_-300"}
    # a captured request replayed after the window: refused; within it: a harmless duplicate
    h = signer.headers("msg_tol_300", b, ts=int(now[0]))
    assert post(svc.webhook_url, b, h).json()["status"] == "duplicate"
    now[0] += 301
    assert post(svc.webhook_url, b, h).status_code == 401


# --- request limits and bodies that are not envelopes ---

def test_oversized_bodies_get_413_before_being_buffered(live):
    svc = live(max_body_bytes=64 * 1024)
    big = envelope(30, pad=70 * 1024)
    r = signed_post(svc, "msg_big", big)
    assert r.status_code == 413
    # Content-Length alone decides: the server answers without reading a byte of the body
    import socket

    with socket.create_connection(("127.0.0.1", int(svc.url.rsplit(":", 1)[1])), timeout=5) as s:
        s.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n")
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")

    # chunked: counted while streaming, cut at the limit
    def chunks():
        for _ in range(100):
            yield b"x" * 8192

    h = signer.headers("msg_chunked", b"")
    r = httpx.post(svc.webhook_url, content=chunks(), headers=h, timeout=10)
    assert r.status_code == 413
    assert nothing_stored(svc)
    assert metric(svc, 'segmap_webhooks_rejected_total{reason="body_too_large"}') == 3


@pytest.mark.parametrize("body,code,reason", [
    (b"not json at all", 400, "malformed_json"),
    (b'{"type": "payment.succeeded", "data": {"a": NaN}}', 400, "malformed_json"),
    (b'{"type": "payment.succeeded", "n": ' + b"9" * 5000 + b"}", 400, "malformed_json"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "malformed_json"),
    (b'[{"type": "payment.succeeded"}]', 400, "not_an_envelope"),
    (b'"payment.succeeded"', 400, "not_an_envelope"),
    (b'{"data": {}}', 400, "not_an_envelope"),
    (b'{"type": 42}', 400, "not_an_envelope"),
    (b'{"type": ""}', 400, "not_an_envelope"),
    (b"\xef\xbb\xbf{}", 400, "malformed_json"),  # a BOM: valid UTF-8 (it verifies), but not JSON text
    # out of the 64-bit range but finite: orjson would read these as floats and lose digits silently
    (b'{"type": "payment.succeeded", "data": {"total_amount": 123456789012345678901234567890}}', 400,
     "malformed_json"),
    (b'{"type": "payment.succeeded", "n": 18446744073709551616}', 400, "malformed_json"),
    (b'{"type": "payment.succeeded", "n": [-9223372036854775809]}', 400, "malformed_json"),
    (b'{"type": "payment.succeeded", "n": [1,\n\t 18446744073709551616]}', 400, "malformed_json"),
    (b'{"type": "payment.succeeded", "s": "a:1", "n":\r\n-9223372036854775809}', 400, "malformed_json"),
])
def test_bodies_that_are_not_envelopes_get_4xx_with_a_clear_message(live, body, code, reason):
    svc = live(max_body_bytes=1024 * 1024)
    r = signed_post(svc, "msg_bad", body)
    assert r.status_code == code and r.json()["reason"] == reason, r.text
    assert r.json()["error"]
    assert nothing_stored(svc)


def test_long_digit_runs_that_are_exact_are_accepted(live):
    """The out-of-range check must not refuse what orjson reads exactly: 64-bit integers at both
    edges, long digit runs inside strings (escaped quotes included), decimals and exponents."""
    svc = live()
    env = orjson.loads(envelope(42))
    env["data"]["metadata"] = {"u64": 18446744073709551615, "i64": -9223372036854775808,
                               "id": 'x\\"123456789012345678901234567890', "f": "@F@"}
    body = orjson.dumps(env).replace(b'"@F@"', b"1.2345678901234567890123e-5")
    assert b"1.2345678901234567890123e-5" in body
    r = signed_post(svc, "msg_long_digits", body)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text


def test_deeply_nested_envelope_does_not_crash(live):
    svc = live()
    env = orjson.loads(envelope(40))
    env["data"]["metadata"] = {"deep": "@DEEP@"}
    deep = b"[" * 1000 + b"]" * 1000  # within orjson's parser limit (1024): reaches the mapping
    r = signed_post(svc, "msg_deep", orjson.dumps(env).replace(b'"@DEEP@"', deep))
    assert r.status_code == 200 and r.json()["status"] in ("accepted", "quarantined")
    deeper = b'{"type":"payment.succeeded","data":' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = signed_post(svc, "msg_deeper", deeper)
    assert r.status_code == 400
    assert signed_post(svc, "msg_after", envelope(41)).status_code == 200  # still serving


def test_get_on_webhook_is_405(live):
    svc = live()
    assert httpx.get(svc.webhook_url).status_code == 405


# --- duplicates ---

def test_the_same_webhook_many_times_some_concurrently_is_stored_once(live, fake, mapping_file):
    svc = live()
    body = envelope(50)
    items = [("msg_dup", body)] * 40
    ledger = asyncio.run(send_all(svc.webhook_url, items, concurrency=40))
    assert set(ledger.acked) == {"msg_dup"} and not ledger.failures
    for _ in range(5):  # and serially, with fresh timestamps and a drifted body (first accepted body wins)
        drift = envelope(50).replace(b"pay_50", b"pay_50_later")
        r = signed_post(svc, "msg_dup", drift)
        assert r.status_code == 200 and r.json()["status"] == "duplicate"
    conn = svc.store._conn()
    assert conn.execute("SELECT count(*) FROM inbox WHERE webhook_id='msg_dup'").fetchone()[0] == 1
    assert bytes(conn.execute("SELECT raw_body FROM inbox").fetchone()[0]) == body
    expected = expected_message_ids(mapping_file, [("msg_dup", body)])
    assert sorted(outbox_ids(svc.store)) == sorted(expected)  # one set of calls, not 45
    assert metric(svc, "segmap_webhooks_duplicate_total") == 44
    assert fake.wait_for_ids(expected, timeout=10)


# --- unmapped, quarantine and replay ---

def test_unmapped_event_type_is_2xx_counted_and_makes_no_call(live):
    svc = live()
    body = orjson.dumps({"business_id": "bus_1", "type": "dispute.opened", "timestamp": "2025-01-01T00:00:00Z",
                         "data": {"payment_id": "pay_1"}})
    r = signed_post(svc, "msg_unmapped", body)
    assert r.status_code == 200 and r.json() == {"status": "accepted", "webhook_id": "msg_unmapped", "calls": 0}
    assert inbox_ids(svc.store) == {"msg_unmapped"} and outbox_ids(svc.store) == []
    assert metric(svc, "segmap_webhooks_unmapped_total") == 1


def test_mapping_failure_is_quarantined_2xx_then_replayed_after_the_fix(live, fake, tmp_path, capsys):
    svc = live()
    bad = envelope(60, currency="XXX")  # to_major() refuses an unknown currency at run time
    with LogCapture() as logs:
        r = signed_post(svc, "msg_q", bad)
    assert r.status_code == 200 and r.json()["status"] == "quarantined"
    assert signed_post(svc, "msg_q", bad).json()["status"] == "duplicate"
    [q] = svc.store.list_quarantine()
    assert q.webhook_id == "msg_q" and q.raw_body == bad
    assert "unknown currency" in q.error and q.location.endswith("segmap.yaml:9:18")
    rec = [x for x in logs.records() if x["msg"].startswith("mapping failed")][0]
    assert rec["location"].endswith("segmap.yaml:9:18")
    assert metric(svc, "segmap_webhooks_quarantined_total") == 1
    assert metric(svc, "segmap_quarantine_open") == 1
    svc.stop()  # the operator fixes the mapping and replays

    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(FIXED_MAPPING)
    assert cli(["outbox", "replay", "--db", str(svc.config.db_path), "--mapping", str(fixed)]) == 0
    expected = expected_message_ids(fixed, [("msg_q", bad)])
    svc2 = live()
    assert fake.wait_for_ids(expected, timeout=10)
    assert fake.received_ids == expected
    assert svc2.store.list_quarantine() == []


# --- store failure, health, readiness, metrics ---

def test_store_failure_answers_503_and_readyz_says_why(live, monkeypatch):
    svc = live(store_recheck_seconds=0.0)  # re-check the store at the first /readyz after the fault
    real = svc.store.accept_many

    def broken(items):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(svc.store, "accept_many", broken)
    monkeypatch.setattr(svc.store, "accept", lambda *a: broken(a))
    r = signed_post(svc, "msg_503", envelope(70))
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["reason"] == "store_unavailable"
    ready = httpx.get(f"{svc.admin_url}/readyz")
    assert ready.status_code == 503 and "disk I/O error" in ready.json()["store"]
    assert httpx.get(f"{svc.url}/healthz").status_code == 200
    monkeypatch.setattr(svc.store, "accept_many", real)
    assert signed_post(svc, "msg_503", envelope(70)).status_code == 200  # Dodo's retry lands
    assert httpx.get(f"{svc.admin_url}/readyz").status_code == 200


def test_health_readiness_and_metrics(live):
    svc = live()
    assert httpx.get(f"{svc.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{svc.admin_url}/readyz").json()
    assert ready["ready"] and ready["store"] == "ok" and ready["delivery"] == "running" and not ready["dry_run"]
    signed_post(svc, "msg_m1", envelope(80))
    post(svc.webhook_url, b"{}", {})
    text = httpx.get(f"{svc.admin_url}/metrics").text
    for name in ("segmap_webhooks_received_total 2", 'segmap_webhooks_rejected_total{reason="missing_headers"} 1',
                 "segmap_webhooks_mapped_total 1", "segmap_webhooks_unmapped_total 0",
                 "segmap_webhooks_quarantined_total 0", "segmap_webhooks_duplicate_total 0",
                 "segmap_outbox_depth", "segmap_delivery_latency_seconds_bucket", "segmap_calls_delivered_total",
                 "segmap_calls_dead_total", "segmap_delivery_paused 0", "segmap_dry_run 0",
                 "segmap_webhook_request_duration_seconds_count 2", 'segmap_outbox_calls{state="pending"}'):
        assert name in text, name


def test_delivery_paused_by_auth_is_reported_but_accepting_continues(live, fake):
    fake.set_write_keys("some-other-key")
    svc = live()
    assert signed_post(svc, "msg_auth", envelope(90)).status_code == 200
    deadline = time.monotonic() + 5
    while svc.service.delivery.paused is None and time.monotonic() < deadline:
        time.sleep(0.02)
    ready = httpx.get(f"{svc.admin_url}/readyz")
    assert ready.status_code == 200 and ready.json()["delivery"].startswith("paused")
    assert metric(svc, "segmap_delivery_paused") == 1
    assert signed_post(svc, "msg_auth2", envelope(91)).status_code == 200
    fake.set_write_keys(WRITE_KEY)  # the probe resumes delivery; nothing was dead-lettered
    assert fake.wait_for(lambda f: len(f.received_ids) == 4, timeout=10)
    assert svc.store.counts()["dead"] == 0


# --- dry run ---

def test_dry_run_writes_the_calls_and_keeps_them_pending(make_config, mapping_file, tmp_path):
    from tests.service.conftest import LiveService

    cfg = make_config(write_key=None)
    with LiveService(cfg) as svc:
        assert httpx.get(f"{svc.admin_url}/readyz").json()["delivery"] == "dry run"
        body = envelope(100)
        assert signed_post(svc, "msg_dry", body).status_code == 200
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not cfg.dry_run_file.exists():
            time.sleep(0.02)
        while time.monotonic() < deadline and len(cfg.dry_run_file.read_bytes().splitlines()) < 2:
            time.sleep(0.02)
        lines = [orjson.loads(x) for x in cfg.dry_run_file.read_bytes().splitlines()]
        assert {x["messageId"] for x in lines} == expected_message_ids(mapping_file, [("msg_dry", body)])
        assert all("sentAt" in x for x in lines)
        assert svc.store.counts()["pending"] == 2  # nothing marked delivered
        assert metric(svc, "segmap_dry_run") == 1


# --- secrets never reach the logs ---

def test_logs_never_contain_secrets_or_auth_headers(live, fake):
    with LogCapture() as logs:
        logs.redactor.add_secret(SECRET)  # the production scrubber is armed too, but must not be needed:
        svc = live(secrets=(SECRET, SECRET_NEW))
        signed_post(svc, "msg_log1", envelope(110))
        post(svc.webhook_url, envelope(111), {**signer.headers("msg_log2", envelope(111)), "authorization": f"Basic {SECRET}"})
        post(svc.webhook_url, envelope(112), {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": SECRET})
        signed_post(svc, "msg_log3", b"garbage")
        signed_post(svc, "msg_log4", envelope(113, currency="XXX"))
        fake.script()
        svc.stop()
    text = logs.text
    assert "[REDACTED]" not in text  # nothing even tried to log a secret
    assert_no_canaries(text)
    assert "msg_log4" in text  # the logs do say what happened


def test_slow_body_is_cut_at_the_body_timeout(live):
    import socket

    svc = live(body_timeout=0.5)
    port = int(svc.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        head = "".join(f"{k}: {v}\r\n" for k, v in signer.headers("msg_slow", b"x" * 1000).items())
        s.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n" + head.encode() + b"\r\n"
                  + b"x" * 100)  # well-formed, fresh headers: the body is read (and cut at the timeout)
        started = time.monotonic()
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3
    assert nothing_stored(svc)


def test_slow_commits_answer_503_and_the_retry_is_a_duplicate(live, monkeypatch):
    svc = live(accept_timeout=0.3, max_queue=2)
    real = svc.store.accept_many

    def slow(items):
        time.sleep(0.6)
        return real(items)

    monkeypatch.setattr(svc.store, "accept_many", slow)
    body = envelope(120)
    r = signed_post(svc, "msg_slow", body)
    assert r.status_code == 503 and r.json()["reason"] == "store_unavailable"

    async def burst():
        async with httpx.AsyncClient(timeout=10) as c:
            return await asyncio.gather(*[
                c.post(svc.webhook_url, content=envelope(130 + i), headers=signer.headers(f"msg_b{i}", envelope(130 + i)))
                for i in range(12)])

    answers = asyncio.run(burst())
    reasons = {r.json().get("reason") for r in answers if r.status_code == 503}
    assert "overloaded" in reasons  # a full queue answers at once instead of piling up
    monkeypatch.setattr(svc.store, "accept_many", real)
    time.sleep(0.8)
    r = signed_post(svc, "msg_slow", body)  # Dodo's retry: the late commit did land
    assert r.status_code == 200 and r.json()["status"] == "duplicate"


def test_an_unexpected_bug_answers_500_not_a_hang(live, monkeypatch):
    svc = live()

    def boom(event_type):
        raise RuntimeError("bug")

    monkeypatch.setattr(svc.service.mapping.current.mapping, "handles", boom)
    r = signed_post(svc, "msg_bug", envelope(140))
    assert r.status_code == 500 and r.json()["reason"] == "internal_error"
    assert nothing_stored(svc)


def test_the_periodic_prune_runs_without_touching_fresh_data(live, fake):
    with LogCapture() as logs:
        svc = live(prune_interval=0.05)
        assert signed_post(svc, "msg_prune", envelope(150)).status_code == 200
        assert fake.wait_for(lambda f: len(f.received_ids) == 2, timeout=10)
        time.sleep(0.3)
        assert inbox_ids(svc.store) == {"msg_prune"}  # kept: the inbox is kept 7 days
        svc.stop()
    assert "pruning the outbox failed" not in logs.text
