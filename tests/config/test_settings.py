"""One settings model for serve, send and outbox: precedence, validation that names the
setting without printing secrets, `segmap config`, and `outbox deliver` honouring the region."""
from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest

from segmap.cli.main import main
from segmap.delivery import segment_client
from segmap.delivery.message import message_id_for
from segmap.delivery.outbox import SqliteOutbox
from segmap.settings import SECRET_MASK, SettingsError, load_settings
from tests.delivery.conftest import WRITE_KEY, fill
from tests.fakes.fake_segment import FakeSegment

SECRET = "whsec_" + base64.b64encode(b"settings-canary-secret-0123456789").decode()
BAD_SECRET = "whsec_canary!!not~base64"
SETTING_VARS = ("SEGMAP_DB", "SEGMENT_WRITE_KEY", "SEGMENT_REGION", "SEGMENT_HOST", "DODO_WEBHOOK_SECRET",
                "DODO_PAYMENTS_WEBHOOK_KEY", "SEGMAP_CONFIG", "SEGMAP_HOST", "SEGMAP_PORT", "SEGMAP_URL",
                "SEGMAP_WORKERS", "SEGMAP_LOG_FORMAT", "SEGMAP_MAX_BODY", "SEGMAP_COMMIT_LINGER")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in SETTING_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def cli(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_flags_over_environment_over_file_over_defaults(tmp_path):
    cfg = tmp_path / "segmap.toml"
    cfg.write_text('db = "file.db"\nregion = "eu"\nport = 9001\nworkers = 3\n')
    env = {"SEGMAP_DB": "env.db", "SEGMAP_PORT": "9002"}
    loaded = load_settings({"db": "flag.db", "workers": None}, config_file=cfg, env=env)
    s = loaded.settings
    assert (s.db, s.port, s.region, s.workers, s.host) == ("flag.db", 9002, "eu", 3, "127.0.0.1")
    assert str(loaded.origins["db"]) == "flag --db"
    assert str(loaded.origins["port"]) == "environment SEGMAP_PORT"
    assert str(loaded.origins["region"]) == f"config file {cfg}"
    assert str(loaded.origins["host"]) == "default"
    # the file is also found through SEGMAP_CONFIG
    assert load_settings(env={"SEGMAP_CONFIG": str(cfg)}).settings.db == "file.db"


def test_unrelated_variables_do_not_leak_in():
    s = load_settings(env={"HOST": "0.0.0.0", "PORT": "1", "DB": "x.db", "REGION": "eu"}).settings
    assert (s.host, s.port, s.db, s.region) == ("127.0.0.1", 8000, "segmap.db", "us")


def test_sdk_secret_variable_and_rotation_lists():
    s = load_settings(env={"DODO_PAYMENTS_WEBHOOK_KEY": f"{SECRET}, {SECRET}"}).settings
    assert s.secret_values() == [SECRET, SECRET]
    assert SECRET not in repr(s)


@pytest.mark.parametrize("env, names", [
    ({"SEGMENT_REGION": "mars"}, ["setting region (from environment SEGMENT_REGION)"]),
    ({"SEGMAP_PORT": "eighty"}, ["setting port (from environment SEGMAP_PORT)"]),
    ({"SEGMENT_HOST": "ftp.example"}, ["setting segment_host (from environment SEGMENT_HOST)"]),
    ({"DODO_WEBHOOK_SECRET": f"{SECRET},{BAD_SECRET}"},
     ["setting webhook_secrets (from environment DODO_WEBHOOK_SECRET)", "secret #2"]),
    ({"SEGMAP_MAX_BODY": "huge"}, ["setting max_body (from environment SEGMAP_MAX_BODY)"]),
])
def test_validation_names_the_setting_and_its_source_never_the_secret(env, names):
    with pytest.raises(SettingsError) as info:
        load_settings(env={**env, "SEGMENT_WRITE_KEY": WRITE_KEY, "SEGMAP_WORKERS": "0"})
    msg = str(info.value)
    for name in names + ["setting workers (from environment SEGMAP_WORKERS)"]:
        assert name in msg
    for secret in (SECRET, BAD_SECRET, BAD_SECRET[6:], WRITE_KEY):
        assert secret not in msg


def test_unknown_key_in_config_file_is_named(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('regoin = "eu"\n')
    with pytest.raises(SettingsError, match=r"c.toml: unknown setting\(s\) regoin"):
        load_settings(config_file=cfg, env={})


def test_segmap_config_shows_effective_settings_with_secrets_masked(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SEGMENT_WRITE_KEY", WRITE_KEY)
    monkeypatch.setenv("DODO_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SEGMENT_REGION", "eu")
    (tmp_path / "c.toml").write_text('db = "/var/lib/segmap/segmap.db"\n')
    code, out, err = cli(capsys, "config", "--config", tmp_path / "c.toml", "--format", "json")
    assert code == 0, err
    data = orjson.loads(out)
    rows = {r["name"]: r for r in data["settings"]}
    assert rows["write_key"]["value"] == SECRET_MASK and rows["write_key"]["source"] == "environment SEGMENT_WRITE_KEY"
    assert rows["webhook_secrets"]["value"] == [SECRET_MASK]
    assert rows["db"]["value"] == "/var/lib/segmap/segmap.db" and rows["db"]["source"].startswith("config file")
    assert data["segment_endpoint"] == segment_client.EU_HOST
    code, text, _ = cli(capsys, "config")
    assert code == 0 and "write_key" in text and SECRET_MASK in text and "live to" in text
    for secret in (WRITE_KEY, SECRET, SECRET[6:]):
        assert secret not in out and secret not in text


def test_serve_print_config_uses_the_serve_flags(capsys, monkeypatch):
    monkeypatch.setenv("SEGMAP_PORT", "9100")
    code, out, _ = cli(capsys, "serve", "segmap.yaml", "--port", "9200", "--secret", SECRET, "--print-config")
    assert code == 0
    assert "port" in out and "9200" in out and "flag --port" in out and "flag --secret" in out
    assert SECRET not in out and SECRET[6:] not in out


@pytest.mark.parametrize(("given", "seconds"), [("2ms", 0.002), ("0", 0.0), ("0.5ms", 0.0005), ("1s", 1.0)])
def test_commit_linger_reads_milliseconds_and_reaches_the_service(given, seconds, tmp_path):
    from segmap.service.config import build_config

    settings = load_settings(env={"SEGMAP_COMMIT_LINGER": given, "DODO_WEBHOOK_SECRET": SECRET}).settings
    assert settings.commit_linger == pytest.approx(seconds)
    assert build_config(tmp_path / "segmap.yaml", settings).commit_linger == pytest.approx(seconds)


@pytest.mark.parametrize("given", ["2x", "-1ms", "2s"])
def test_a_commit_linger_that_is_not_a_short_duration_stops_serve(capsys, given):
    Path("segmap.yaml").write_text("version: 1\nevents: {}\n")
    code, _, err = cli(capsys, "serve", "segmap.yaml", "--secret", SECRET, f"--commit-linger={given}")
    assert code == 2 and "commit_linger" in err and "--commit-linger" in err


def test_invalid_setting_stops_serve_with_exit_2_and_no_secret(capsys, monkeypatch):
    monkeypatch.setenv("DODO_WEBHOOK_SECRET", BAD_SECRET)
    Path("segmap.yaml").write_text("version: 1\nevents: {}\n")
    code, out, err = cli(capsys, "serve", "segmap.yaml")
    assert code == 2 and "webhook_secrets" in err and "DODO_WEBHOOK_SECRET" in err
    assert BAD_SECRET not in err + out and BAD_SECRET[6:] not in err + out


def test_outbox_commands_read_the_database_from_the_environment(capsys, monkeypatch, tmp_path):
    path = tmp_path / "elsewhere.db"
    store = SqliteOutbox(path)
    fill(store, 1)
    store.close()
    monkeypatch.setenv("SEGMAP_DB", str(path))
    code, out, err = cli(capsys, "outbox", "status", "--format", "json")
    assert code == 0, err
    assert orjson.loads(out)["counts"]["pending"] == 2


@pytest.fixture
def two_regions(monkeypatch):
    """Two real HTTP servers on 127.0.0.1 standing in for Segment's US and EU endpoints."""
    with FakeSegment(write_keys={WRITE_KEY}) as us, FakeSegment(write_keys={WRITE_KEY}) as eu:
        monkeypatch.setattr(segment_client, "REGIONS", {"us": us.url, "eu": eu.url})
        yield us, eu


def _outbox_with_calls(tmp_path):
    path = tmp_path / "outbox.db"
    store = SqliteOutbox(path)
    expected = fill(store, 2)
    store.close()
    return path, expected


def test_outbox_deliver_honours_segment_region_eu(capsys, monkeypatch, tmp_path, two_regions):
    us, eu = two_regions
    path, expected = _outbox_with_calls(tmp_path)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", WRITE_KEY)
    monkeypatch.setenv("SEGMENT_REGION", "eu")
    monkeypatch.setenv("SEGMAP_DB", str(path))
    code, _, err = cli(capsys, "outbox", "deliver", "--once")
    assert code == 0, err
    assert eu.received_ids == expected
    assert us.received_ids == set() and not us.requests
    assert WRITE_KEY not in err


def test_outbox_deliver_honours_segment_host_and_the_flag_wins(capsys, monkeypatch, tmp_path, two_regions):
    us, eu = two_regions
    path, expected = _outbox_with_calls(tmp_path)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", WRITE_KEY)
    monkeypatch.setenv("SEGMENT_HOST", eu.url)
    code, _, err = cli(capsys, "outbox", "deliver", "--once", "--db", path)
    assert code == 0, err
    assert eu.received_ids == expected and not us.requests
    # the region flag does not beat a configured host, but a host flag beats the variable
    store = SqliteOutbox(path)
    more = fill(store, 1, prefix="again_")
    store.close()
    code, _, err = cli(capsys, "outbox", "deliver", "--once", "--db", path, "--segment-host", us.url)
    assert code == 0, err
    assert us.received_ids == more
    assert message_id_for("again_0", 0) not in eu.received_ids


def test_docs_list_every_setting_and_variable():
    from segmap.settings import env_names, fields

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    for name in fields():
        assert f"| `{name}` |" in doc, name
        for var in env_names(name):
            assert var in doc, var


def test_the_injected_environment_is_the_only_one_read(monkeypatch):
    monkeypatch.setenv("SEGMENT_REGION", "mars")
    monkeypatch.setenv("SEGMAP_PORT", "1234")
    s = load_settings(env={}).settings
    assert (s.region, s.port) == ("us", 8000)
    monkeypatch.setenv("SEGMENT_REGION", "")  # empty counts as unset
    assert load_settings().settings.region == "us"
