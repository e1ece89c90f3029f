"""The real `segmap serve` process: SIGHUP reload, SIGTERM under load, start-up failures, the dev secret."""
from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time

import httpx
import orjson

from segmap.delivery.outbox import SqliteOutbox
from tests.fakes.fake_segment import Slow
from tests.service.conftest import (
    BROKEN_MAPPING,
    MAPPING,
    ROOT,
    SECRET,
    WRITE_KEY,
    Ledger,
    Signer,
    assert_no_canaries,
    envelope,
    expected_message_ids,
    inbox_ids,
    post,
    send_all,
    until_acked,
)
from tests.service.test_ledger import wait_drained


def _env(fake) -> dict:
    return {"SEGMENT_WRITE_KEY": WRITE_KEY, "SEGMENT_HOST": fake.url, "DODO_WEBHOOK_SECRET": SECRET}


def _event_names(fake, wid: str) -> set[str]:
    with fake._lock:
        return {m.get("event") for k, m in fake.messages.items() if k.startswith(f"segmap-{wid}-") and m.get("event")}


def test_sighup_refuses_a_broken_mapping_and_swaps_in_a_good_one(tmp_path, fake, mapping_file, spawn):
    svc = spawn(mapping_file, tmp_path / "segmap.db", env=_env(fake)).start()
    signer = Signer()

    def send(wid: str, i: int) -> None:
        b = envelope(i)
        assert post(svc.webhook_url, b, signer.headers(wid, b)).status_code == 200
        assert fake.wait_for(lambda f: any(k.startswith(f"segmap-{wid}-") for k in f.received), timeout=10)

    send("msg_h1", 1)
    assert _event_names(fake, "msg_h1") == {"Order Completed"}

    mapping_file.write_text(BROKEN_MAPPING)
    svc.signal(signal.SIGHUP)
    assert svc.wait_for(lambda line: "mapping reload refused" in line, timeout=15), svc.output
    refused = [x for x in svc.json_lines() if x.get("msg", "").startswith("mapping reload refused")][0]
    assert refused["level"] == "error" and refused["diagnostics"]
    assert any("no_such_function" in d["message"] for d in refused["diagnostics"])
    assert refused["diagnostics"][0]["line"] == 9
    send("msg_h2", 2)  # the old mapping keeps serving
    assert _event_names(fake, "msg_h2") == {"Order Completed"}
    assert httpx.get(f"{svc.admin_url}/readyz").status_code == 200

    mapping_file.write_text(MAPPING.replace("Order Completed", "Order Done"))
    svc.signal(signal.SIGHUP)
    assert svc.wait_for(lambda line: '"mapping reloaded"' in line, timeout=15), svc.output
    send("msg_h3", 3)
    assert _event_names(fake, "msg_h3") == {"Order Done"}
    metrics = httpx.get(f"{svc.admin_url}/metrics").text
    assert 'segmap_mapping_reloads_total{result="failed"} 1' in metrics
    assert 'segmap_mapping_reloads_total{result="ok"} 1' in metrics
    svc.signal(signal.SIGTERM)
    assert svc.wait(12) == 0


def test_sigterm_under_load_exits_within_10s_and_loses_no_accepted_webhook(tmp_path, fake, mapping_file, spawn):
    db = tmp_path / "segmap.db"
    items = [(f"msg_t{i}", envelope(i)) for i in range(600)]
    svc = spawn(mapping_file, db, env=_env(fake)).start()
    fake.script(Slow(1.0, times=4))  # deliveries are slow: some are on the wire at SIGTERM
    stopped = {}

    async def load_then_term():
        progress = Ledger()
        sender = asyncio.create_task(send_all(svc.webhook_url, items, rate=300, retry=False, concurrency=32,
                                              ledger=progress))
        await until_acked(progress, 60, sender)  # a count, not a time: a loaded machine only takes longer
        stopped["at"] = time.monotonic()
        svc.signal(signal.SIGTERM)
        return await sender

    first = asyncio.run(load_then_term())
    code = svc.wait(12)
    took = time.monotonic() - stopped["at"]
    assert code == 0, svc.output
    assert took < 10.0, took
    print(f"SIGTERM to exit {took:.2f}s; {len(first.acked)} acked, {len(first.failures)} refused "
          f"({sorted(set(f.split(': ')[1] for f in first.failures))})")
    acked = set(first.acked)
    assert 0 < len(acked) < len(items)
    answered = len(first.acked) + len(first.failures)
    assert answered == len(items)

    store = SqliteOutbox(db, create=False)
    assert store.integrity_check() == "ok"
    assert acked <= inbox_ids(store)  # every 2xx is on disk
    assert store.counts()["in_flight"] == 0  # leases were given back, none left to expire
    store.close()
    assert any("stopped" == x.get("msg") for x in svc.json_lines())

    svc2 = spawn(mapping_file, db, env=_env(fake)).start()
    rest = [(w, b) for w, b in items if w not in acked]
    second = asyncio.run(send_all(svc2.webhook_url, rest, concurrency=32))
    assert set(second.acked) == {w for w, _ in rest}
    expected = expected_message_ids(mapping_file, items)
    assert fake.wait_for_ids(expected, timeout=30)
    assert wait_drained(svc2.admin_url)
    assert fake.received_ids == expected
    svc2.signal(signal.SIGTERM)
    assert svc2.wait(12) == 0
    assert_no_canaries(svc.output + svc2.output)


def test_sigterm_answers_a_body_still_trickling_in_with_503_not_500(tmp_path, fake, mapping_file, spawn):
    """uvicorn cancels the requests still running when its graceful period ends. A webhook whose body
    is still arriving then must get the truthful 503 (nothing stored, retry), not uvicorn's 500 with an
    "Exception in ASGI application" traceback in the logs."""
    import socket

    db = tmp_path / "segmap.db"
    svc = spawn(mapping_file, db, env=_env(fake), args=["--shutdown-timeout", "3"]).start()  # 1 s graceful
    host, port = svc.url.removeprefix("http://").rsplit(":", 1)
    body = envelope(7)
    head = "".join(f"{k}: {v}\r\n" for k, v in Signer().headers("msg_trickle", body).items())
    conn = socket.create_connection((host, int(port)), timeout=10)
    conn.sendall(f"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n{head}\r\n".encode()
                 + body[:20])
    time.sleep(0.3)  # the request is being handled: its body is awaited
    started = time.monotonic()
    svc.signal(signal.SIGTERM)
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        answer += chunk
    conn.close()
    assert svc.wait(12) == 0, svc.output
    assert time.monotonic() - started < 3.5
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"503", answer
    assert orjson.loads(rest.split(b"\r\n\r\n", 1)[1])["reason"] == "shutting_down"
    assert b"retry-after: 5" in rest.lower()
    assert "Exception in ASGI application" not in svc.output
    store = SqliteOutbox(db, create=False)
    assert inbox_ids(store) == set()
    store.close()


def test_request_headers_are_bounded_before_any_check_runs(tmp_path, fake, mapping_file, spawn):
    """uvicorn's httptools protocol (a segmap dependency) buffers every header byte it is sent: one
    unauthenticated connection could grow the process by hundreds of MB. The head is capped at 64 KiB
    (431, connection closed); ordinary requests, and heads with a few KiB to spare, are unaffected."""
    import socket

    svc = spawn(mapping_file, tmp_path / "segmap.db", env=_env(fake)).start()
    host, port = svc.url.removeprefix("http://").rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=10)
    conn.sendall(b"POST /webhook HTTP/1.1\r\nhost: x\r\n")
    line = b"x-pad: " + b"a" * 8000 + b"\r\n"
    sent = 0
    try:
        while sent < 4 * 1024 * 1024:
            conn.sendall(line)
            sent += len(line)
    except OSError:  # reset: the server refused and closed
        pass
    answer = b""
    try:
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    conn.close()
    assert answer.startswith(b"HTTP/1.1 431"), (sent, answer[:200])
    assert sent < 4 * 1024 * 1024  # it stopped reading long before the end

    body = envelope(3)
    headers = {**Signer().headers("msg_big_head", body), "x-forwarded-stuff": "b" * 40_000}
    r = post(svc.webhook_url, body, headers)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    body = envelope(4)
    assert post(svc.webhook_url, body, Signer().headers("msg_after_431", body)).status_code == 200
    svc.signal(signal.SIGTERM)
    assert svc.wait(12) == 0


def _serve(args, cwd, env=None, timeout=30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "segmap", "serve", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                          stdin=subprocess.DEVNULL)


def test_startup_failures_exit_with_clear_codes(tmp_path, mapping_file):
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_MAPPING)
    r = _serve([str(broken), "--port", "0"], tmp_path, {"DODO_WEBHOOK_SECRET": SECRET})
    assert r.returncode == 1 and "no_such_function" in r.stderr and "not starting" in r.stderr
    r = _serve([str(mapping_file), "--port", "0"], tmp_path, {"DODO_WEBHOOK_SECRET": "whsec_not*base64"})
    assert r.returncode == 2 and "setting webhook_secrets" in r.stderr and "secret #1" in r.stderr and "not*base64" not in r.stderr
    r = _serve([str(tmp_path / "missing.yaml"), "--port", "0"], tmp_path, {"DODO_WEBHOOK_SECRET": SECRET})
    assert r.returncode == 1 and "no mapping file" in r.stderr
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = _serve([str(mapping_file), "--port", str(port)], tmp_path, {"DODO_WEBHOOK_SECRET": SECRET})
    assert r.returncode == 2 and "cannot listen" in r.stderr


def test_fresh_machine_starts_with_a_dev_secret_that_only_segmap_send_knows(tmp_path, spawn):
    # the README's main job: segmap init && segmap serve segmap.yaml, nothing configured
    from segmap.cli.main import main as cli

    starter = tmp_path / "segmap.yaml"
    assert cli(["init", str(starter)]) == 0
    env = {"DODO_WEBHOOK_SECRET": "", "DODO_PAYMENTS_WEBHOOK_KEY": "", "SEGMENT_WRITE_KEY": ""}
    svc = spawn(starter, tmp_path / "segmap.db", env=env).start()
    secret_file = tmp_path / "segmap-dev-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    dev_secret = secret_file.read_text().strip()
    assert dev_secret.startswith("whsec_")
    warnings = [x["msg"] for x in svc.json_lines() if x.get("level") == "warning"]
    assert any("DEVELOPMENT secret" in w for w in warnings) and any("DRY RUN" in w for w in warnings)
    assert httpx.get(f"{svc.admin_url}/readyz").json()["dev_secret"] is True

    # unsigned, and signed with anything else: refused
    b = envelope(1)
    assert post(svc.webhook_url, b, {"content-type": "application/json"}).status_code == 401
    assert post(svc.webhook_url, b, Signer(SECRET).headers("msg_x", b)).status_code == 401
    # `segmap send` finds the dev secret beside the database and is accepted
    r = subprocess.run([sys.executable, "-m", "segmap", "send", "payment.succeeded", "--url", svc.webhook_url,
                        "--db", str(tmp_path / "segmap.db")], capture_output=True, text=True, timeout=30,
                       env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    assert r.returncode == 0, r.stderr
    status, wid, answer = r.stdout.strip().split(" ", 2)
    assert status == "200" and orjson.loads(answer)["status"] == "accepted"
    deadline = time.monotonic() + 5
    dry = tmp_path / "segmap-dry-run.jsonl"
    while time.monotonic() < deadline and not (dry.exists() and dry.read_bytes().count(b"\n") >= 2):
        time.sleep(0.05)
    assert {orjson.loads(x)["messageId"] for x in dry.read_bytes().splitlines()} == {
        f"segmap-{wid}-0", f"segmap-{wid}-1"}
    svc.signal(signal.SIGTERM)
    assert svc.wait(12) == 0
    assert dev_secret not in svc.output and dev_secret[6:] not in svc.output  # never logged (not a TTY)
