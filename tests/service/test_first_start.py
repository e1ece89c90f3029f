"""`segmap serve` records when it first started on a database: the boundary `segmap backfill` stops at."""
from __future__ import annotations

import time

from segmap.delivery.outbox.store import FIRST_START_KEY


def test_the_first_start_is_recorded_once_and_kept_across_restarts(live):
    before = time.time()
    svc = live()
    first = float(svc.store.get_state(FIRST_START_KEY))
    assert before <= first <= time.time()
    svc.stop()
    time.sleep(0.01)
    again = live()
    assert float(again.store.get_state(FIRST_START_KEY)) == first  # a restart does not move the boundary
