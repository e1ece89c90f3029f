"""Shared fixtures, and the one mechanism for tools the suite needs (``require_tool``).

Under CI (``CI=true``) a missing required tool ends the run before any test, with one message
naming what is missing: a suite that skipped every JavaScript comparison is not a green suite.
Outside CI a test that needs a missing tool is skipped, and the skip names the tool.

Other test modules use it as::

    from tests.conftest import require_tool
    node = require_tool("node")            # in a fixture or test: skip (or, under CI, fail the run)
    require_tool("dodopayments")           # at module level too
    require_tool("postgresql")             # PostgreSQL at $PGHOST:$PGPORT (default 127.0.0.1:5432)

and a new tool is one ``@required_tool(...)`` probe below.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

import pytest

import segmap

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# `segmap check` keeps a cache of parse trees (segmap/dsl/tree_cache.py): the suite's own, in a
# directory of the session (inherited by every segmap process a test starts), never ~/.cache.
_CACHE_PREFIX = "segmap-test-cache-"


def _remove_abandoned_caches() -> None:
    """Sessions that were killed (kill -9, a CI timeout) never reach their cleanup: their cache
    directories are removed here, once the pid in the name is no longer running."""
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        if not name.startswith(_CACHE_PREFIX):
            continue
        pid = name[len(_CACHE_PREFIX):].partition("-")[0]
        if not pid.isdigit():
            continue  # not one of ours
        try:
            os.kill(int(pid), 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # someone else's, alive
        shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)


_remove_abandoned_caches()
SEGMAP_CACHE_DIR = tempfile.mkdtemp(prefix=f"{_CACHE_PREFIX}{os.getpid()}-")
os.environ["SEGMAP_CACHE_DIR"] = SEGMAP_CACHE_DIR
os.environ.pop("SEGMAP_NO_CACHE", None)


@dataclass(frozen=True)
class _Tool:
    probe: Callable[[], str | None]  # what was found (a version), or None when missing
    install: str  # how to get it, for the message


_TOOLS: dict[str, _Tool] = {}
_found: dict[str, str | None] = {}


def required_tool(name: str, install: str):
    """Register ``probe`` as the check for tool ``name``."""
    def register(probe: Callable[[], str | None]):
        _TOOLS[name] = _Tool(probe, install)
        return probe
    return register


def probe_tool(name: str) -> str | None:
    """What the probe of ``name`` found (cached for the session), or None."""
    if name not in _found:
        _found[name] = _TOOLS[name].probe()
    return _found[name]


def _missing_message(names: list[str]) -> str:
    return "; ".join(f"{n} is missing ({_TOOLS[n].install})" for n in names)


def require_tool(name: str) -> str:
    """What was found for ``name``; when it is missing, fail the whole run under CI, else skip."""
    found = probe_tool(name)
    if found is None:
        if IN_CI:
            pytest.exit(f"CI=true: a required tool is missing: {_missing_message([name])}", returncode=4)
        pytest.skip(f"{_missing_message([name])}", allow_module_level=True)
    return found


def _version_output(program: str) -> subprocess.CompletedProcess | None:
    """`program --version` as run from PATH, or None when it is not there or cannot start."""
    path = shutil.which(program)
    if path is None:
        return None
    try:
        return subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None


@required_tool("node", "install Node.js 20 and put `node` on PATH")
def _node() -> str | None:
    out = _version_output("node")
    return out.stdout.strip() or None if out is not None and out.returncode == 0 else None


@required_tool("dodopayments", "install the dev extras: README's test command")
def _dodopayments() -> str | None:
    try:
        import dodopayments  # noqa: F401
    except ImportError:
        return None
    return metadata.version("dodopayments")


@required_tool("pygls", "install the dev extras (README's test command) or `pip install 'segmap[lsp]'`")
def _pygls() -> str | None:
    try:
        import pygls  # noqa: F401
    except ImportError:
        return None
    return metadata.version("pygls")


@required_tool("promtool", "Debian/Ubuntu: `apt-get install prometheus` (it checks and unit-tests docs/monitoring/)")
def _promtool() -> str | None:
    out = _version_output("promtool")
    if out is None:
        return None
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split(",")[1].strip() if out.returncode == 0 and first and "," in first[0] else None


@required_tool("postgresql", "start PostgreSQL 15 on $PGHOST:$PGPORT, default 127.0.0.1:5432, trust auth")
def _postgresql() -> str | None:
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = int(os.environ.get("PGPORT", "5432"))
    if host.startswith("/"):  # a Unix socket directory
        return f"socket {host}" if os.path.exists(os.path.join(host, f".s.PGSQL.{port}")) else None
    try:
        with socket.create_connection((host, port), timeout=3):
            return f"{host}:{port}"
    except OSError:
        return None


@required_tool("postgresql-server", "install the PostgreSQL server binaries (initdb, pg_ctl; Debian/Ubuntu: "
                                    "postgresql-15) for the database-restart test, which runs a server of its own")
def _postgresql_server() -> str | None:
    from tests.pg_server import server_bindir

    return server_bindir()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(SEGMAP_CACHE_DIR, ignore_errors=True)


def pytest_sessionstart(session):
    """Under CI, every registered tool must be there before a single test runs."""
    if IN_CI:
        missing = [name for name in _TOOLS if probe_tool(name) is None]
        if missing:
            pytest.exit(f"CI=true: required tools are missing: {_missing_message(missing)}", returncode=4)


_KEY_PACKAGES = ("lark", "PyYAML", "pydantic", "dodopayments", "standardwebhooks", "starlette", "uvicorn",
                 "httpx", "orjson", "hypothesis", "pytest")


def _tested_with() -> str:
    import yaml

    parts = [f"python {sys.version.split()[0]}", f"node {probe_tool('node') or 'missing'}"]
    for name in _KEY_PACKAGES:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} missing")
    parts.append("libyaml" if hasattr(yaml, "CSafeLoader") else "no libyaml")
    return ", ".join(parts)


def pytest_report_header(config):
    return f"tested with: {_tested_with()}"


def pytest_terminal_summary(terminalreporter):
    # also under -q, where the header is not shown: the versions a green run vouches for
    terminalreporter.write_line(f"tested with: {_tested_with()}")


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def compile_text():
    def _compile(text: str, filename: str = "m.yaml"):
        return segmap.compile_source(dedent(text), filename)

    return _compile


@pytest.fixture
def check_text():
    from segmap.compiler.api import check_source

    def _check(text: str, filename: str = "m.yaml"):
        return check_source(dedent(text), filename).diagnostics

    return _check


@pytest.fixture(scope="session")
def node():
    """The path of node, for a one-off script (``node --check``, the seed's own handler)."""
    require_tool("node")
    return shutil.which("node")


@pytest.fixture(scope="session")
def node_bridge(node):
    """One long-lived node process for every differential test of the session (tests/support/node.py)."""
    from tests.support.node import NodeBridge

    bridge = NodeBridge(node)
    yield bridge
    bridge.close()


from tests.postgres_db import pg_database, pg_url  # noqa: E402,F401 - fixtures for the PostgreSQL tests
