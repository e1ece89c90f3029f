"""The service's SQLite outbox checkpoints its WAL in a thread of its own, never inside a commit."""
from __future__ import annotations

import sqlite3
import time

from segmap.delivery.outbox import SqliteOutbox, open_store
from segmap.runtime.calls import Call


def _fill(store, n: int, prefix: str) -> None:
    body = b'{"type":"payment.succeeded","pad":"' + b"x" * 3000 + b'"}'
    for i in range(0, n, 20):
        store.accept_many([(f"{prefix}{j}", "payment.succeeded", body, [Call("track", {"userId": "u", "event": "E"})])
                           for j in range(i, i + 20)])


def _main_file_pages(path) -> int:
    return path.stat().st_size // 4096


def test_without_an_interval_sqlite_checkpoints_by_itself_and_nothing_else_runs(tmp_path):
    store = SqliteOutbox(tmp_path / "o.db")
    try:
        assert store._checkpointer is None
        assert store._conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    finally:
        store.close()


def test_the_checkpoint_thread_copies_the_wal_into_the_database_file(tmp_path):
    path = tmp_path / "o.db"
    store = open_store(path, checkpoint_interval=0.05)
    try:
        assert store._conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # commits never checkpoint
        before = _main_file_pages(path)
        _fill(store, 200, "msg_a")  # about 200 pages: under SQLite's own 1,000-page threshold anyway
        deadline = time.monotonic() + 5
        while _main_file_pages(path) < before + 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _main_file_pages(path) >= before + 150, "the WAL was not copied into the database file"
        # what a reader sees is the same, and the data is there
        con = sqlite3.connect(path)
        assert con.execute("SELECT count(*) FROM inbox").fetchone()[0] == 200
        con.close()
    finally:
        store.close()
    assert not store._checkpointer.is_alive()  # close() stops it before closing its connection


def test_a_readonly_store_runs_no_checkpoint_thread(tmp_path):
    SqliteOutbox(tmp_path / "o.db").close()
    ro = SqliteOutbox(tmp_path / "o.db", readonly=True, checkpoint_interval=0.05)
    try:
        assert ro._checkpointer is None
    finally:
        ro.close()
