"""Classification, Retry-After and backoff: the decisions behind every retry."""
from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from segmap.delivery.retry import Outcome, RetryPolicy, classify_status, parse_retry_after


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_transient_statuses_are_retried(status):
    assert classify_status(status) is Outcome.RETRY


@pytest.mark.parametrize("status", [501, 505, 404, 405, 410, 302])
def test_answers_about_the_endpoint_are_not_retried_but_pause(status):
    assert classify_status(status) is Outcome.ENDPOINT


def test_content_auth_and_success_classes():
    assert classify_status(400) is classify_status(413) is Outcome.REJECTED
    assert classify_status(401) is classify_status(403) is Outcome.AUTH
    assert classify_status(200) is classify_status(204) is Outcome.OK


def test_retry_after_seconds_date_garbage_and_clamp():
    now = 1_700_000_000.0
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after("100000", now=now, max_seconds=300) == 300.0
    assert parse_retry_after(formatdate(now + 42, usegmt=True), now=now) == pytest.approx(42.0)
    assert parse_retry_after(formatdate(now - 42, usegmt=True), now=now) == 0.0  # past date: now
    for junk in (None, "", "soon", "-5x", "nan"):
        assert parse_retry_after(junk, now=now) is None
    assert parse_retry_after("-5", now=now) == 0.0


def test_full_jitter_backoff_stays_within_its_growing_ceiling():
    p = RetryPolicy(base_delay=0.5, max_delay=60.0, rng=random.Random(1))
    assert p.backoff(0) == 0.0
    for n in range(1, 30):
        ceiling = min(60.0, 0.5 * 2 ** (n - 1))
        samples = [p.backoff(n) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8  # it is jitter over the whole range, not a constant
    assert p.backoff(10_000) <= 60.0


def test_retry_after_wins_over_backoff_but_is_clamped():
    p = RetryPolicy(base_delay=100.0, max_delay=100.0, max_retry_after=30.0, rng=random.Random(1))
    assert p.delay(5, 7.0) == 7.0
    assert p.delay(1, 1000.0) == 30.0
    assert 0 <= p.delay(1, None) <= 100.0
