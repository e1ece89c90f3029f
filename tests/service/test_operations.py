"""Operating the service (issue 14), over real HTTP on 127.0.0.1.

* the public port answers `POST /webhook` and a bare `/healthz` only; `/metrics` and the
  detailed `/readyz` are on the admin listener;
* the webhook-* headers are checked before a body byte is read, unverified bodies have
  bounded room (large ones apart), and heads are bounded in size and time;
* malformed HTTP gets the documented JSON error, counted and logged;
* readiness fails on a database that fails its integrity check at start-up, and on an I/O
  error at run time.
"""
from __future__ import annotations

import base64
import os
import socket
import sqlite3
import threading
import time

import httpx
import orjson
import pytest

from segmap.delivery.outbox import SqliteOutbox
from tests.service.conftest import LogCapture, Signer, envelope, post

signer = Signer()


def signed_post(svc, webhook_id: str, body: bytes) -> httpx.Response:
    return post(svc.webhook_url, body, signer.headers(webhook_id, body))


def metric_text(svc) -> str:
    return httpx.get(f"{svc.admin_url}/metrics", timeout=5).text


def metric(svc, name: str) -> float:
    for line in metric_text(svc).splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise KeyError(name)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def raw(url: str, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes on a fresh connection; everything answered until the server closes."""
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def split_answer(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return status, headers, body


# --- 8. the public port and the admin listener ---

def test_public_port_serves_only_the_webhook_and_a_bare_liveness_check(live):
    svc = live()
    assert httpx.get(f"{svc.url}/healthz").json() == {"status": "ok"}
    for path in ("/metrics", "/readyz", "/", "/admin", "/webhook/x"):
        r = httpx.get(f"{svc.url}{path}")
        assert r.status_code == 404 and r.json()["reason"] == "not_found", path
        assert "segmap_" not in r.text and "dev_secret" not in r.text
    r = httpx.get(f"{svc.url}/webhook")
    assert r.status_code == 405 and r.json()["reason"] == "method_not_allowed" and r.headers["allow"] == "POST"
    assert signed_post(svc, "msg_pub", envelope(1)).status_code == 200
    # the admin listener has the details, and no webhook endpoint
    admin = httpx.get(f"{svc.admin_url}/readyz").json()
    assert admin["ready"] is True and admin["store"] == "ok" and "dev_secret" in admin
    assert "segmap_webhooks_received_total 1" in metric_text(svc)
    assert httpx.post(f"{svc.admin_url}/webhook", content=b"{}").status_code in (404, 405)
    assert 'segmap_http_rejected_total{reason="not_found"} 5' in metric_text(svc)


def test_real_serve_binds_the_admin_listener_to_loopback_whatever_the_webhook_host(spawn, tmp_path, mapping_file):
    from tests.service.conftest import SECRET

    svc = spawn(mapping_file, tmp_path / "segmap.db", env={"DODO_WEBHOOK_SECRET": SECRET},
                args=["--host", "127.0.0.2"]).start()
    assert svc.url.startswith("http://127.0.0.2:")
    assert svc.admin_url is not None and svc.admin_url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{svc.url}/metrics").status_code == 404
    assert httpx.get(f"{svc.admin_url}/metrics").status_code == 200
    assert httpx.get(f"{svc.admin_url}/readyz").json()["ready"] is True
    # the admin port is not reachable on the public address
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.2:{port_of(svc.admin_url)}/metrics", timeout=2)


# --- 3. headers before bodies; bounded unverified bytes and time ---

class Flood:
    """Connections that each send a head and part of a 1 MiB body, then hold it."""

    def __init__(self, url: str, n: int, head: bytes, sent: int = 256 * 1024):
        self.url, self.n, self.head, self.sent = url, n, head, sent
        self.answers: list[bytes] = []
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> "Flood":
        for _ in range(self.n):
            s = socket.create_connection(("127.0.0.1", port_of(self.url)), timeout=10)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self._socks.append(s)
            threading.Thread(target=self._send, args=(s,), daemon=True).start()
        time.sleep(0.5)  # let the server take in what was sent
        return self

    def _send(self, s: socket.socket) -> None:
        try:
            s.sendall(self.head + b"x" * self.sent)
            answer = s.recv(4096)
        except OSError:
            answer = b""
        with self._lock:
            self.answers.append(answer)

    def __exit__(self, *exc) -> None:
        for s in self._socks:
            try:
                s.close()
            except OSError:
                pass


def _head(extra: dict[str, str] | None = None, length: int = 1024 * 1024) -> bytes:
    lines = [b"POST /webhook HTTP/1.1", b"Host: segmap", b"Content-Type: application/json",
             b"Content-Length: %d" % length]
    lines += [f"{k}: {v}".encode() for k, v in (extra or {}).items()]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_headerless_bodies_are_refused_unread_and_signed_webhooks_keep_getting_2xx(live):
    # a small body budget, so that on a service that reads bodies first a few floods fill it
    svc = live(body_budget_bytes=2 * 1024 * 1024, small_body_reserve_bytes=512 * 1024)
    with Flood(svc.url, 24, _head()) as flood:
        codes = [signed_post(svc, f"msg_f{i}", envelope(i)).status_code for i in range(20)]
        assert codes == [200] * 20
    refused = [a for a in flood.answers if a]
    assert refused and all(a.startswith(b"HTTP/1.1 401") for a in refused)
    assert all(split_answer(a)[1].get("connection") == "close" for a in refused)
    assert metric(svc, 'segmap_webhooks_rejected_total{reason="missing_headers"}') == len(flood.answers)


def test_forged_large_bodies_cannot_take_the_room_of_small_signed_webhooks(live):
    """Well-formed, fresh headers with a wrong signature: the body must be read to find out, so
    it holds budget; large bodies only get the part of it not reserved for small ones."""
    svc = live(body_budget_bytes=4 * 1024 * 1024, small_body_reserve_bytes=1024 * 1024, body_timeout=8.0)
    forged = {"webhook-id": "msg_forged", "webhook-timestamp": str(int(time.time())),
              "webhook-signature": "v1," + base64.b64encode(b"\0" * 32).decode()}
    with Flood(svc.url, 20, _head(forged)):
        codes = [signed_post(svc, f"msg_g{i}", envelope(i)).status_code for i in range(20)]
    assert codes == [200] * 20
    assert metric(svc, 'segmap_webhooks_rejected_total{reason="overloaded"}') >= 1  # the large ones overflowed


def test_stale_or_unsigned_headers_are_refused_before_the_body_arrives(live):
    svc = live()
    stale = {"webhook-id": "msg_old", "webhook-timestamp": str(int(time.time()) - 3600),
             "webhook-signature": "v1," + base64.b64encode(b"\0" * 32).decode()}
    for extra, reason in ((stale, "timestamp_too_old"), ({}, "missing_headers")):
        # only the head is sent: an answer proves nobody waited for the (announced) body
        answer = raw(svc.url, _head(extra, length=500_000), timeout=5)
        status, headers, body = split_answer(answer)
        assert status == 401 and orjson.loads(body)["reason"] == reason and headers["connection"] == "close"


@pytest.mark.parametrize("trickle", [False, True])
def test_request_headers_over_64_kib_get_a_json_431(live, trickle):
    svc = live()
    filler = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(110))  # about 110 KB
    head = b"POST /webhook HTTP/1.1\r\nHost: segmap\r\nContent-Length: 2\r\n" + filler + b"\r\n{}"
    if trickle:
        with socket.create_connection(("127.0.0.1", port_of(svc.url)), timeout=5) as s:
            for i in range(0, len(head), 8192):
                try:
                    s.sendall(head[i:i + 8192])
                except OSError:
                    break
                time.sleep(0.001)
            answer = s.recv(65536)
    else:
        answer = raw(svc.url, head)
    status, headers, body = split_answer(answer)
    assert status == 431 and headers["content-type"] == "application/json"
    assert orjson.loads(body)["reason"] == "headers_too_large"
    assert metric(svc, 'segmap_http_rejected_total{reason="headers_too_large"}') == 1
    # just under the limit is fine
    ok_filler = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(50))
    body = envelope(3)
    hdrs = "".join(f"{k}: {v}\r\n" for k, v in signer.headers("msg_big_head", body).items()).encode()
    answer = raw(svc.url, b"POST /webhook HTTP/1.1\r\nHost: segmap\r\nConnection: close\r\nContent-Length: %d\r\n"
                 % len(body) + hdrs + ok_filler + b"\r\n" + body)
    assert split_answer(answer)[0] == 200


def test_a_head_that_never_completes_is_cut_with_a_json_408(live):
    svc = live(head_timeout=0.5)
    with socket.create_connection(("127.0.0.1", port_of(svc.url)), timeout=10) as s:
        s.sendall(b"POST /webhook HTTP/1.1\r\nHost: segmap\r\nX-Slow: ")
        answer = s.recv(4096)
    status, _, body = split_answer(answer)
    assert status == 408 and orjson.loads(body)["reason"] == "head_timeout"
    with socket.create_connection(("127.0.0.1", port_of(svc.url)), timeout=10) as s:  # connected, silent
        assert split_answer(s.recv(4096))[0] == 408
    assert metric(svc, 'segmap_http_rejected_total{reason="head_timeout"}') == 2


def test_connections_past_the_cap_get_a_json_503_and_the_admin_port_still_answers(live):
    svc = live(max_connections=3)
    idle = [socket.create_connection(("127.0.0.1", port_of(svc.url)), timeout=10) for _ in range(3)]
    try:
        time.sleep(0.2)  # the server has taken the three
        status, headers, body = split_answer(raw(svc.url, b"GET /healthz HTTP/1.1\r\nHost: segmap\r\n\r\n"))
        assert status == 503 and headers["content-type"] == "application/json"
        assert headers["retry-after"] == "1" and orjson.loads(body)["reason"] == "too_many_connections"
        assert httpx.get(f"{svc.admin_url}/readyz", timeout=5).status_code == 200  # not counted
        assert metric(svc, 'segmap_http_rejected_total{reason="too_many_connections"}') == 1
    finally:
        for s in idle:
            s.close()
    # the places are given back: a signed webhook is accepted on a fresh connection
    deadline = time.monotonic() + 5
    while True:
        body = envelope(7)
        r = signed_post(svc, "msg_after_cap", body)
        if r.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.status_code == 200


def test_the_connection_cap_leaves_file_descriptors_for_the_database_and_segment():
    """Past the descriptor limit accept() fails and the client hangs; the cap stays under it."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import resource; from segmap.service.server import connection_limit as c; "
            "resource.setrlimit(resource.RLIMIT_NOFILE, (200, resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
            "print(c(1000), c(100))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}).stdout.split()
    assert out == ["136", "100"]


# --- 7. malformed HTTP ---

@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /webhook HTTP/1.1\r\nHost x\r\n\r\n",
    b"POST /webhook HTTP/9.9\r\n\r\n",
])
def test_malformed_http_gets_the_json_error_and_is_counted_and_logged(live, request_bytes):
    svc = live()
    with LogCapture() as logs:
        status, headers, body = split_answer(raw(svc.url, request_bytes))
    assert status == 400 and headers["content-type"] == "application/json"
    payload = orjson.loads(body)
    assert payload["reason"] == "malformed_http" and payload["error"].startswith("malformed HTTP request")
    assert metric(svc, 'segmap_http_rejected_total{reason="malformed_http"}') == 1
    assert any(r.get("reason") == "malformed_http" and r["msg"] == "request refused" for r in logs.records())


# --- 5. readiness and the store ---

def corrupt_an_index(path) -> None:
    store = SqliteOutbox(path)
    for i in range(200):
        store.accept(f"msg_c{i}", "payment.succeeded", b"{}", [])
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'inbox_received'").fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as fh:
        fh.seek((root - 1) * page + 8)
        fh.write(b"\xff" * 64)


def test_a_database_that_fails_its_integrity_check_is_not_ready_and_refuses_webhooks(live, tmp_path):
    db = tmp_path / "segmap.db"
    corrupt_an_index(db)
    check = SqliteOutbox(db)
    assert check.check_health(integrity=True).startswith("integrity check failed")  # the precondition
    check.close()
    svc = live(db_path=db)
    ready = httpx.get(f"{svc.admin_url}/readyz")
    assert ready.status_code == 503 and "integrity check failed" in ready.json()["store"]
    r = signed_post(svc, "msg_into_corrupt", envelope(5))
    assert r.status_code == 503 and r.json()["reason"] == "store_unavailable"
    assert metric(svc, "segmap_store_fault") == 1
    assert httpx.get(f"{svc.url}/healthz").status_code == 200  # alive, not ready


def test_an_io_error_in_delivery_at_run_time_flips_readiness_until_a_recheck_passes(live, monkeypatch):
    svc = live()
    assert httpx.get(f"{svc.admin_url}/readyz").status_code == 200
    hit = threading.Event()

    def failing_claim(*a, **kw):
        hit.set()
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(svc.store, "claim", failing_claim)
    assert signed_post(svc, "msg_io", envelope(6)).status_code == 200
    assert hit.wait(10)
    ready = httpx.get(f"{svc.admin_url}/readyz")
    assert ready.status_code == 503 and "I/O error in delivery" in ready.json()["store"]
    assert metric(svc, "segmap_store_fault") == 1
    monkeypatch.undo()  # the device recovered
    svc.service.health.recheck_seconds = 0.0
    assert httpx.get(f"{svc.admin_url}/readyz").status_code == 200
    assert metric(svc, "segmap_store_fault") == 0


def test_readiness_commits_for_real(live, monkeypatch):
    """A store that takes the write lock but cannot commit (a full disk shows only at COMMIT)."""
    svc = live()

    def cannot_commit(*, integrity=False):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(svc.store, "check_health", cannot_commit)
    ready = httpx.get(f"{svc.admin_url}/readyz")
    assert ready.status_code == 503 and "disk is full" in ready.json()["store"]


def test_readiness_and_metrics_show_the_pause_and_the_last_error(live, fake):
    from tests.fakes.fake_segment import Status

    fake.on_request = lambda req: Status(404, body=b"no such route")
    svc = live()
    assert signed_post(svc, "msg_pause", envelope(7)).status_code == 200
    deadline = time.monotonic() + 10
    while svc.service.delivery.paused is None and time.monotonic() < deadline:
        time.sleep(0.02)
    ready = httpx.get(f"{svc.admin_url}/readyz").json()
    assert ready["delivery"].startswith("paused (endpoint)") and "HTTP 404" in ready["delivery"]
    assert "HTTP 404" in ready["last_delivery_error"]["error"]
    text = metric_text(svc)
    assert "segmap_delivery_paused 1" in text and 'segmap_delivery_paused_by{kind="endpoint"} 1' in text
    assert metric(svc, "segmap_delivery_paused_since_timestamp_seconds") > 0
    assert metric(svc, "segmap_delivery_last_error_timestamp_seconds") > 0
    assert metric(svc, "segmap_delivery_failing_since_timestamp_seconds") > 0
    assert svc.store.counts()["dead"] == 0
    fake.on_request = None
    assert fake.wait_for(lambda f: len(f.received_ids) == 2, timeout=10)
    deadline = time.monotonic() + 5
    while metric(svc, "segmap_delivery_paused") != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric(svc, "segmap_delivery_paused") == 0 and metric(svc, "segmap_delivery_failing_since_timestamp_seconds") == 0


def test_admin_listener_settings_at_start_up(spawn, tmp_path, mapping_file):
    import subprocess
    import sys

    from tests.service.conftest import ROOT, SECRET

    env = {"DODO_WEBHOOK_SECRET": SECRET}

    def serve(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "segmap", "serve", str(mapping_file), *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": str(ROOT), **env})

    with socket.socket() as busy:  # the admin port is taken: a clean start-up error, like the webhook port
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        r = serve("--port", "0", "--admin-port", str(busy.getsockname()[1]))
    assert r.returncode == 2 and "admin listener" in r.stderr and "cannot listen" in r.stderr
    r = serve("--port", "18765", "--admin-port", "18765")
    assert r.returncode == 2 and "port of its own" in r.stderr
    # --admin-port -1: no admin listener, said so at start-up; the public port still keeps /metrics to itself
    svc = spawn(mapping_file, tmp_path / "segmap.db", env=env, args=["--admin-port", "-1"]).start()
    assert svc.admin_url is None and "no admin listener" in svc.output
    assert httpx.get(f"{svc.url}/metrics").status_code == 404
    assert signed_post(svc, "msg_noadmin", envelope(9)).status_code == 200
