"""`segmap send`: signs like Dodo, posts, reports; exit codes."""
from __future__ import annotations

import orjson

from segmap.cli.main import main as cli
from tests.service.conftest import SECRET, SECRET_NEW, inbox_ids


def test_send_sample_file_and_repeat(live, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("DODO_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("DODO_PAYMENTS_WEBHOOK_KEY", raising=False)
    svc = live()
    assert cli(["send", "payment.succeeded", "--url", svc.webhook_url, "--secret", SECRET]) == 0
    out = capsys.readouterr().out.split("\n")[0]
    assert out.startswith("200 msg_send_") and '"accepted"' in out

    assert cli(["send", "refund.succeeded", "--url", svc.webhook_url, "--secret", SECRET, "--id", "msg_same",
                "--repeat", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [orjson.loads(x.split(" ", 2)[2])["status"] for x in lines] == ["accepted", "duplicate", "duplicate"]

    f = tmp_path / "hook.json"
    f.write_bytes(b'{"business_id":"b","type":"dispute.opened","timestamp":"2025-01-01T00:00:00Z","data":{}}')
    monkeypatch.setenv("DODO_WEBHOOK_SECRET", f"{SECRET}, {SECRET_NEW}")  # the first one signs
    assert cli(["send", "--file", str(f), "--url", svc.webhook_url, "--id", "msg_file"]) == 0
    assert "msg_file" in inbox_ids(svc.store)


def test_send_exit_codes(live, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("DODO_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("DODO_PAYMENTS_WEBHOOK_KEY", raising=False)
    svc = live()
    assert cli(["send", "payment.succeeded", "--url", svc.webhook_url, "--secret", SECRET_NEW]) == 1  # 401
    assert cli(["send", "no.such.event", "--url", svc.webhook_url, "--secret", SECRET]) == 2
    assert cli(["send", "payment.succeeded", "--url", svc.webhook_url, "--db", str(tmp_path / "none.db")]) == 2
    assert cli(["send", "payment.succeeded", "--url", "http://127.0.0.1:9/webhook", "--secret", SECRET]) == 2
    assert cli(["send", "--url", svc.webhook_url, "--secret", SECRET]) == 2
    err = capsys.readouterr().err
    assert "no signing secret" in err and "unknown Dodo event type" in err
    assert SECRET not in err


def test_send_reads_the_sdk_secret_variable_like_serve_and_refuses_a_non_ascii_id(live, capsys, tmp_path,
                                                                                   monkeypatch):
    """serve falls back to DODO_PAYMENTS_WEBHOOK_KEY; send must sign with it too, not with a stale
    development secret beside the database (every request would then get a 401)."""
    from segmap.service.config import DEV_SECRET_FILE
    from segmap.service.verification import generate_secret

    monkeypatch.delenv("DODO_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("DODO_PAYMENTS_WEBHOOK_KEY", SECRET)
    (tmp_path / DEV_SECRET_FILE).write_text(generate_secret() + "\n")  # left over from a dev run
    svc = live()
    assert cli(["send", "payment.succeeded", "--url", svc.webhook_url, "--db", str(tmp_path / "segmap.db"),
                "--id", "msg_sdk_env"]) == 0, capsys.readouterr()
    assert "msg_sdk_env" in inbox_ids(svc.store)
    capsys.readouterr()
    assert cli(["send", "payment.succeeded", "--url", svc.webhook_url, "--id", "msg_\u00e9"]) == 2
    assert cli(["send", "payment.succeeded", "--url", svc.webhook_url, "--id", "msg_a\nb"]) == 2
    captured = capsys.readouterr()
    assert "--id must be printable ASCII" in captured.err and "Traceback" not in captured.err
