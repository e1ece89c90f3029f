"""One entry point picks the backend from what --db / SEGMAP_DB holds; URLs are shown without passwords."""
from __future__ import annotations

import json

from segmap.cli.main import main
from segmap.delivery.outbox import SqliteOutbox, backend_for, db_target, describe, open_store
from tests.delivery.conftest import calls_for


def test_backend_is_chosen_by_the_target(tmp_path, pg_url):
    from segmap.delivery.outbox.postgres import PostgresOutbox

    assert backend_for("postgresql://u@h/db") == backend_for("postgres://h/db") == "postgresql"
    assert backend_for("segmap.db") == backend_for(tmp_path / "x.db") == "sqlite"
    assert db_target("postgresql://u@h/db") == "postgresql://u@h/db"  # not mangled into a Path
    s = open_store(tmp_path / "o.db")
    p = open_store(pg_url)
    assert isinstance(s, SqliteOutbox) and isinstance(p, PostgresOutbox)
    s.close()
    p.close()


def test_passwords_never_show(pg_url):
    assert describe("postgresql://segmap:s3cr3t@db.internal:5432/segmap") == "postgresql://segmap:***@db.internal:5432/segmap"
    assert describe("postgresql://db.internal/segmap?sslmode=require&password=s3cr3t&x=1") == \
        "postgresql://db.internal/segmap?sslmode=require&password=***&x=1"
    assert describe("segmap.db") == "segmap.db"


def test_outbox_and_db_commands_take_a_postgresql_url(pg_url, capsys, monkeypatch):
    store = open_store(pg_url)
    store.accept("msg_1", "payment.succeeded", b"{}", calls_for(1))
    store.close()
    assert main(["outbox", "status", "--db", pg_url, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["pending"] == 2 and out["inbox"] == 1
    monkeypatch.setenv("SEGMAP_DB", pg_url)  # the environment works as well as the flag
    assert main(["db", "version"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_an_unreachable_database_is_a_clear_error(capsys):
    url = "postgresql://segmap:hunter2@127.0.0.1:1/nowhere?connect_timeout=1"
    assert main(["outbox", "status", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to PostgreSQL" in err and "hunter2" not in err


def test_readonly_postgresql_store_reads_and_refuses_writes(pg_url):
    import psycopg

    from segmap.delivery.outbox.postgres import PostgresOutbox

    with open_store(pg_url) as s:
        s.accept("msg_1", "payment.succeeded", b"{}", calls_for(1))
    ro = open_store(pg_url, create=False, readonly=True)
    assert isinstance(ro, PostgresOutbox) and ro.counts()["pending"] == 2
    try:
        ro.accept("msg_2", "payment.succeeded", b"{}", calls_for(2))
    except psycopg.errors.ReadOnlySqlTransaction:
        pass
    else:
        raise AssertionError("a read-only store wrote")
    ro.close()
