"""Colour follows the conventions (an explicit --color, then NO_COLOR, then FORCE_COLOR, then
a terminal), and `segmap serve` logs text to a person at a terminal, JSON lines to a program."""
from __future__ import annotations

import base64
import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from segmap.colour import use_colour

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "check" / "catalogue" / "t01_path_typo.yaml"
ESC = b"\x1b["


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("choice, env, tty, expected", [
    ("auto", {}, False, False),
    ("auto", {}, True, True),
    ("auto", {"TERM": "dumb"}, True, False),
    ("auto", {"NO_COLOR": "1"}, True, False),
    ("auto", {"NO_COLOR": ""}, True, True),  # empty means unset
    ("auto", {"FORCE_COLOR": "1"}, False, True),
    ("auto", {"FORCE_COLOR": "true"}, False, True),
    ("auto", {"FORCE_COLOR": "0"}, True, False),
    ("auto", {"FORCE_COLOR": ""}, False, False),
    ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ("always", {"NO_COLOR": "1"}, False, True),
    ("never", {"FORCE_COLOR": "1"}, True, False),
])
def test_colour_rule(choice, env, tty, expected):
    stream = Tty() if tty else io.StringIO()
    assert use_colour(choice, stream, env) is expected


def check(*argv, env: dict) -> bytes:
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    r = subprocess.run([sys.executable, "-m", "segmap", "check", str(BROKEN), *argv], capture_output=True,
                       cwd=ROOT, timeout=60, env={**clean, **env})
    assert r.returncode == 1
    return r.stdout


def test_force_color_colours_a_pipe_and_no_color_wins():
    assert ESC not in check(env={})
    assert ESC in check(env={"FORCE_COLOR": "1"})
    assert ESC not in check(env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert ESC not in check("--color", "never", env={"FORCE_COLOR": "1"})
    assert ESC in check("--color", "always", env={"NO_COLOR": "1"})


# --- serve: text for a person, JSON for a program ---

SECRET = "whsec_" + base64.b64encode(b"log-format-secret-0123456789abcd").decode()


def _serve_first_lines(tmp_path: Path, *args: str, on_tty: bool) -> list[bytes]:
    mapping = tmp_path / "segmap.yaml"
    mapping.write_text((ROOT / "segmap" / "cli" / "starter.yaml").read_text())
    cmd = [sys.executable, "-m", "segmap", "serve", str(mapping), "--port", "0", "--db", str(tmp_path / "s.db"),
           "--dry-run-file", str(tmp_path / "dry.jsonl"), *args]
    env = {**os.environ, "DODO_WEBHOOK_SECRET": SECRET, "SEGMENT_WRITE_KEY": "", "SEGMAP_LOG_FORMAT": "",
           "PYTHONPATH": str(ROOT)}
    if on_tty:
        master, slave = pty.openpty()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        read = lambda: os.read(master, 65536)  # noqa: E731
        fd = master
    else:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=env)
        fd = proc.stderr.fileno()
        read = lambda: os.read(fd, 65536)  # noqa: E731
    data = b""
    deadline = time.monotonic() + 30
    try:
        while b"listening on" not in data and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    chunk = read()
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
    finally:
        proc.terminate()
        proc.wait(15)
        if on_tty:
            os.close(master)
    assert b"listening on" in data, data.decode(errors="replace")
    return [line for line in data.replace(b"\r\n", b"\n").split(b"\n") if b" segmap" in line or line.startswith(b"{")]


def _is_json(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def test_serve_logs_text_on_a_terminal(tmp_path):
    lines = _serve_first_lines(tmp_path, on_tty=True)
    assert lines and not any(_is_json(x) for x in lines), lines
    assert any(b"INFO segmap" in x for x in lines)


def test_serve_logs_json_into_a_pipe(tmp_path):
    lines = _serve_first_lines(tmp_path, on_tty=False)
    assert lines and all(_is_json(x) for x in lines), lines


def test_log_format_wins_over_the_terminal(tmp_path):
    lines = _serve_first_lines(tmp_path, "--log-format", "json", on_tty=True)
    assert lines and all(_is_json(x) for x in lines), lines
