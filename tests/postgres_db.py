"""A PostgreSQL database of this test session's own, and a fresh schema per test.

The server is the one on $PGHOST:$PGPORT (default 127.0.0.1:5432; or `SEGMAP_TEST_PG_ADMIN_URL`). Other
sessions may run PostgreSQL tests at the same time, so this session creates a
uniquely named database, drops only that one, and isolates tests from each other
with one schema each (selected through the URL's search_path). Without a server
the tests are skipped, except under CI=true, where that is a failure (`require_tool`).
"""
from __future__ import annotations

import os
import urllib.parse
import uuid

import pytest

ADMIN_URL = os.environ.get("SEGMAP_TEST_PG_ADMIN_URL") or (
    f"postgresql://{os.environ.get('PGUSER', 'postgres')}@{os.environ.get('PGHOST', '127.0.0.1')}:"
    f"{os.environ.get('PGPORT', '5432')}/postgres"
)


def require(what: str, why: str) -> None:
    """The server answered the port probe but not as expected: a failure in CI, else a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true: {why}", pytrace=False)
    pytest.skip(f"{what} not available: {why}")


def _with_db(url: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


def with_schema(url: str, schema: str) -> str:
    """The URL with `search_path` set to `schema` (every table the store makes lands there)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    query.append(("options", f"-csearch_path={schema}"))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@pytest.fixture(scope="session")
def pg_database():
    """URL of a database created for this session (dropped at its end)."""
    from tests.conftest import require_tool  # the shared check: under CI a missing server ends the run

    require_tool("postgresql")
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        require("psycopg", str(exc))
    name = f"segmap_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        require("PostgreSQL", f"{ADMIN_URL}: {str(exc).strip()}")
    url = _with_db(ADMIN_URL, name)
    yield url
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error:  # pragma: no cover - the server went away; nothing else to clean
        pass


@pytest.fixture
def pg_url(pg_database):
    """URL of a fresh, empty schema in the session database (dropped after the test)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield with_schema(pg_database, schema)
    try:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    except psycopg.Error:  # pragma: no cover
        pass

