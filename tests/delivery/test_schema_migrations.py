"""Schema versions: a database written by the previous release is upgraded in place with
nothing lost, a newer schema is refused untouched, a failing migration changes nothing."""
from __future__ import annotations

import sqlite3

import pytest

from segmap.cli.main import main
from segmap.delivery.outbox import SCHEMA_LATEST, SchemaOutdated, SchemaTooNew, SqliteOutbox, migrations
from tests.delivery.conftest import Clock, calls_for
from tests.delivery.legacy.outbox_sqlite_c5b3eb0 import SqliteOutbox as ReleasedSqliteOutbox

SQLITE_LATEST = migrations.latest("sqlite")


def write_with_previous_release(path, clock: Clock) -> dict:
    """Fill a database with the c5b3eb0 code: pending, delivered, retried, dead, quarantined, paused."""
    old = ReleasedSqliteOutbox(path, clock=clock)
    for i in range(4):
        old.accept(f"msg_{i}", "payment.succeeded", f'{{"i":{i}}}'.encode(), calls_for(i))
    rows = old.claim(2, 30)
    old.ack([r.id for r in rows], token=rows[0].token)
    rows = old.claim(2, 30)
    old.nack([rows[0].id], "HTTP 503", clock() + 60, token=rows[0].token)
    old.dead([rows[1].id], "rejected by Segment: HTTP 400: bad", token=rows[0].token)
    old.quarantine("msg_q", "payment.failed", b'{"q":1}', "KeyError: customer", "m.yaml:7:3")
    old.set_paused("HTTP 401")
    before = dict(counts=old.counts(), dead=old.list_dead(), quarantine=old.list_quarantine(),
                  paused=old.paused(), peek=old.peek(100), inbox=old.status().inbox)
    old.close()
    return before


def test_a_database_of_the_previous_release_is_upgraded_with_every_row_kept(tmp_path):
    path, clock = tmp_path / "old.db", Clock()
    before = write_with_previous_release(path, clock)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1

    store = SqliteOutbox(path, create=False, clock=clock)
    assert (store.upgraded_from, store.schema_version()) == (1, SQLITE_LATEST)
    after = dict(counts=store.counts(), dead=store.list_dead(), quarantine=store.list_quarantine(),
                 paused=store.paused(), peek=store.peek(100), inbox=store.status().inbox)
    assert after == before
    assert before["counts"] == {"pending": 5, "in_flight": 0, "delivered": 2, "dead": 1}
    indexes = {r[0] for r in store._conn().execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "quarantine_webhook" in indexes
    # and it works as an outbox of this release
    clock.advance(61)
    assert store.accept("msg_new", "payment.succeeded", b"{}", calls_for(9)).queued == 2
    assert store.accept("msg_0", "payment.succeeded", b"{}", calls_for(0)).duplicate
    assert len(store.claim(100, 30)) == 7
    assert store.integrity_check() == "ok"
    store.close()
    # the previous release now refuses the file instead of writing to a schema it does not know
    with pytest.raises(ValueError, match="newer segmap"):
        ReleasedSqliteOutbox(path)


def test_a_newer_schema_is_refused_and_left_as_it_is(tmp_path):
    path = tmp_path / "new.db"
    SqliteOutbox(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_LATEST + 1}")
    conn.close()
    for create in (True, False):
        with pytest.raises(SchemaTooNew, match="newer segmap"):
            SqliteOutbox(path, create=create)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_LATEST + 1


def test_without_upgrade_an_older_schema_is_refused_not_changed(tmp_path):
    path = tmp_path / "old.db"
    write_with_previous_release(path, Clock())
    with pytest.raises(SchemaOutdated, match="segmap db upgrade"):
        SqliteOutbox(path, create=False, upgrade=False)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1


def test_a_failing_migration_leaves_the_previous_version_whole(tmp_path, monkeypatch):
    path = tmp_path / "o.db"
    s = SqliteOutbox(path)
    s.accept("msg_1", "payment.succeeded", b"{}", calls_for(1))
    s.close()
    broken = migrations.Migration(
        SCHEMA_LATEST + 1, "adds a column, then fails",
        ("ALTER TABLE outbox ADD COLUMN sample INTEGER NOT NULL DEFAULT 0", "SELECT no_such_column FROM outbox"),
        ("ALTER TABLE outbox ADD COLUMN sample boolean NOT NULL DEFAULT false", "SELECT no_such_column FROM outbox"),
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + (broken,))
    monkeypatch.setattr(migrations, "LATEST", SCHEMA_LATEST + 1)
    with pytest.raises(sqlite3.OperationalError):
        SqliteOutbox(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SQLITE_LATEST
    assert "sample" not in {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2


def test_migrations_are_numbered_in_order_and_each_changes_a_backend():
    assert [m.version for m in migrations.MIGRATIONS] == list(range(1, SCHEMA_LATEST + 1))
    assert all((m.sqlite or m.postgresql) and m.description for m in migrations.MIGRATIONS)


def test_a_version_that_changes_only_postgresql_leaves_sqlite_files_where_they_were(tmp_path):
    """So a SQLite user can go back to the previous release: it refuses only a newer number."""
    pg_only = [m.version for m in migrations.MIGRATIONS if m.postgresql and not m.sqlite]
    assert pg_only, "no PostgreSQL-only version today: this test has nothing to check"
    path = tmp_path / "o.db"
    SqliteOutbox(path).close()
    written = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert written == SQLITE_LATEST < SCHEMA_LATEST
    # a file marked with a PostgreSQL-only version (as a development build wrote it) still opens
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {pg_only[-1]}")
    conn.close()
    store = SqliteOutbox(path, upgrade=False)
    assert store.accept("msg_1", "payment.succeeded", b"{}", calls_for(1)).queued == 2
    store.close()


def test_db_version_and_upgrade_commands(tmp_path, capsys):
    path = tmp_path / "old.db"
    write_with_previous_release(path, Clock())
    assert main(["db", "version", "--db", str(path)]) == 1
    assert "schema version 1, this segmap needs" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", str(path)]) == 0
    assert f"upgraded schema version 1 -> {SQLITE_LATEST}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", str(path)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["db", "version", "--db", str(path)]) == 0
    assert main(["db", "version", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no outbox database" in capsys.readouterr().err


# --- PostgreSQL: the same mechanism, the version kept in segmap_schema_migrations ---

def _pg_versions(url) -> list[int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM segmap_schema_migrations ORDER BY version")]


def test_postgresql_database_at_version_1_is_upgraded_with_every_row_kept(pg_url, monkeypatch):
    """Schema 1 made by the migration list cut at 1, rows written in its shape with plain SQL
    (today's code writes columns schema 1 lacks), then opened by this release."""
    import psycopg

    from segmap.delivery.outbox.postgres import PostgresOutbox

    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        m.setattr(migrations, "LATEST", 1)
        PostgresOutbox(pg_url).close()
    assert _pg_versions(pg_url) == [1]
    with psycopg.connect(pg_url) as conn:
        for i in range(3):
            conn.execute("INSERT INTO inbox VALUES (%s, 'payment.succeeded', '{}', 'accepted', now(), 2)", (f"msg_{i}",))
            for idx in range(2):
                state, reason = ("dead", "rejected by Segment: HTTP 400") if (i, idx) == (0, 0) else ("pending", None)
                conn.execute(
                    "INSERT INTO outbox (webhook_id, idx, event_type, call, message_id, payload, state, available_at,"
                    " dead_reason, created_at, finished_at) VALUES (%s, %s, 'payment.succeeded', 'track', %s, %s, %s,"
                    " now(), %s, now(), CASE WHEN %s = 'dead' THEN now() END)",
                    (f"msg_{i}", idx, f"segmap-msg_{i}-{idx}", b'{"type":"track"}', state, reason, state))
        conn.execute("INSERT INTO inbox VALUES ('msg_q', 'payment.failed', '{}', 'quarantined', now(), 0)")
        conn.execute("INSERT INTO quarantine (webhook_id, event_type, raw_body, error, location, status, created_at,"
                     " updated_at) VALUES ('msg_q', 'payment.failed', '{}', 'KeyError', 'm.yaml:1:1', 'open', now(), now())")
    with pytest.raises(SchemaOutdated):
        PostgresOutbox(pg_url, upgrade=False)
    store = PostgresOutbox(pg_url)
    assert (store.upgraded_from, store.schema_version()) == (1, SCHEMA_LATEST)
    assert store.counts() == {"pending": 5, "in_flight": 0, "delivered": 0, "dead": 1}
    assert [d.message_id for d in store.list_dead()] == ["segmap-msg_0-0"]
    assert [q.webhook_id for q in store.list_quarantine()] == ["msg_q"]
    assert len(store.claim(100, 30)) == 5
    assert store.accept("msg_0", "payment.succeeded", b"{}", calls_for(0)).duplicate
    assert store.integrity_check() == "ok"
    store.close()
    assert _pg_versions(pg_url) == list(range(1, SCHEMA_LATEST + 1))


def test_postgresql_newer_schema_is_refused_and_a_failing_migration_changes_nothing(pg_url, monkeypatch):
    import psycopg

    from segmap.delivery.outbox.postgres import PostgresOutbox

    PostgresOutbox(pg_url).close()
    broken = migrations.Migration(
        SCHEMA_LATEST + 1, "adds a column, then fails",
        ("SELECT 1",),
        ("ALTER TABLE outbox ADD COLUMN sample boolean NOT NULL DEFAULT false", "SELECT no_such_column FROM outbox"),
    )
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + (broken,))
        m.setattr(migrations, "LATEST", SCHEMA_LATEST + 1)
        with pytest.raises(psycopg.errors.UndefinedColumn):
            PostgresOutbox(pg_url)
    with psycopg.connect(pg_url) as conn:
        cols = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'outbox'"
            " AND table_schema = current_schema()")}
        assert "sample" not in cols
        conn.execute("INSERT INTO segmap_schema_migrations (version, description, segmap_version)"
                     " VALUES (%s, 'from the future', '9.9')", (SCHEMA_LATEST + 1,))
    with pytest.raises(SchemaTooNew, match="newer segmap"):
        PostgresOutbox(pg_url)
    assert _pg_versions(pg_url)[-1] == SCHEMA_LATEST + 1


def test_postgresql_instances_starting_together_upgrade_once(pg_url):
    import threading

    from segmap.delivery.outbox.postgres import PostgresOutbox

    stores, errors = [], []

    def start():
        try:
            stores.append(PostgresOutbox(pg_url))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(stores) == 4
    assert sorted(s.upgraded_from for s in stores).count(0) >= 1
    assert _pg_versions(pg_url) == list(range(1, SCHEMA_LATEST + 1))
    for s in stores:
        s.close()


def test_postgresql_database_of_the_previous_release_is_upgraded_and_its_instances_keep_working(pg_url, monkeypatch):
    """Schema 3 written by the 3392d62 code itself (pending, in flight, delivered, retried, dead, held,
    quarantined rows), upgraded to 4 while that instance still runs (a rolling deploy): no row is lost,
    the old instance's claim is acked by its token after the upgrade, and what either release acks
    is counted as delivered and pruned."""
    from segmap.delivery.outbox.postgres import PostgresOutbox
    from tests.delivery.legacy.outbox_postgres_3392d62 import PostgresOutbox as ReleasedPostgresOutbox

    clock = Clock()
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        m.setattr(migrations, "LATEST", 3)
        old = ReleasedPostgresOutbox(pg_url, clock=clock)
    assert _pg_versions(pg_url) == [1, 2, 3]
    for i in range(5):
        old.accept(f"msg_{i}", "payment.succeeded", f'{{"i":{i}}}'.encode(), calls_for(i))
    old.accept("msg_send_1", "payment.succeeded", b"{}", calls_for(7), hold="test")
    rows = old.claim(2, 30)
    old.ack([r.id for r in rows], token=rows[0].token)  # delivered, in outbox
    rows = old.claim(2, 30)
    old.nack([rows[0].id], "HTTP 503", clock() + 60, token=rows[0].token)
    old.dead([rows[1].id], "rejected by Segment: HTTP 400: bad", token=rows[0].token)
    in_flight = old.claim(2, 30)  # still in flight at the upgrade
    old.quarantine("msg_q", "payment.failed", b'{"q":1}', "KeyError: customer", "m.yaml:7:3")
    before = dict(counts=old.counts(), dead=old.list_dead(), quarantine=old.list_quarantine(),
                  peek=old.peek(100), held=old.list_held(), inbox=old.status().inbox)
    assert before["counts"] == {"pending": 7, "in_flight": 2, "delivered": 2, "dead": 1}

    store = PostgresOutbox(pg_url, clock=clock)
    assert (store.upgraded_from, store.schema_version()) == (3, SCHEMA_LATEST)
    after = dict(counts=store.counts(), dead=store.list_dead(), quarantine=store.list_quarantine(),
                 peek=store.peek(100), held=store.list_held(), inbox=store.status().inbox)
    assert after == before
    # the claim made before the upgrade is settled after it, by its token
    assert store.ack([r.id for r in in_flight], token=in_flight[0].token) == 2
    # the instance of the previous release keeps claiming and acking on the upgraded schema
    theirs = old.claim(2, 30)
    assert len(theirs) == 2 and old.ack([r.id for r in theirs], token=theirs[0].token) == 2
    ours = store.claim(100, 30)
    assert {r.id for r in ours}.isdisjoint(r.id for r in theirs) and len(ours) == 2
    assert store.ack([r.id for r in ours], token=ours[0].token) == 2
    assert store.counts() == {"pending": 3, "in_flight": 0, "delivered": 8, "dead": 1}  # 1 retried later, 2 held
    assert store.accept("msg_0", "payment.succeeded", b"{}", calls_for(0)).duplicate
    assert store.integrity_check() == "ok"
    clock.advance(8 * 24 * 3600)
    assert store.prune().delivered == 8  # both releases' delivered rows
    assert store.counts() == {"pending": 3, "in_flight": 0, "delivered": 0, "dead": 1}
    old.close()
    store.close()
