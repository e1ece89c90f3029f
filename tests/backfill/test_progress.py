"""The backfill's status line: redrawn in place on a terminal, plain periodic lines otherwise."""
from __future__ import annotations

import io
from types import SimpleNamespace

from segmap.backfill.progress import Progress
from segmap.backfill.runner import Tally


def _job(done: float, objects: int, elapsed: float, dry: bool = False):
    tally = Tally(objects=objects, mapped=objects // 2, calls_queued=objects)
    return SimpleNamespace(tally=tally, elapsed=elapsed, current="payments", fraction_done=lambda: done,
                           plan=SimpleNamespace(dry_run=dry))


def test_a_terminal_gets_one_line_redrawn_with_rate_and_eta():
    out = io.StringIO()
    now = [0.0]
    p = Progress(out, tty=True, clock=lambda: now[0])
    p(_job(0.25, 1000, 10.0))
    now[0] += 1.0
    p(_job(0.5, 2000, 20.0))
    p.finish()
    text = out.getvalue()
    assert text.count("\r\x1b[2K") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "50.0% · 2,000 objects read · 1,000 mapped · 2,000 calls queued · 100/s · ETA 20s" in text


def test_a_pipe_gets_plain_lines_at_most_every_interval():
    out = io.StringIO()
    now = [0.0]
    p = Progress(out, tty=False, clock=lambda: now[0])
    for i in range(5):  # five pages within 4 seconds: one line
        p(_job(0.1 * (i + 1), 100 * (i + 1), 1.0 + i))
        now[0] += 1.0
    now[0] += 10.0
    p(_job(0.6, 600, 16.0))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in out.getvalue()
    assert "calls queued" in lines[0] and "60.0%" in lines[1]
