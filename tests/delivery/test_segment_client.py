"""The client against a real HTTP server: what goes on the wire and how answers are read."""
from __future__ import annotations

import base64

import httpx
import pytest

from segmap import __version__
from segmap.runtime.calls import Call
from segmap.delivery.message import encode_call
from segmap.delivery.retry import Outcome
from segmap.delivery.segment_client import EU_HOST, US_HOST, SegmentClient, basic_auth_header, resolve_host
from tests.delivery.conftest import WRITE_KEY
from tests.fakes.fake_segment import Hang, Reset, Status


def payloads(n: int, webhook: str = "msg_c") -> list[bytes]:
    return [encode_call(webhook, i, Call("track", {"userId": "u", "event": "E"})).payload for i in range(n)]


def test_hosts_us_eu_custom():
    assert resolve_host("us") == US_HOST == "https://api.segment.io"
    assert resolve_host("EU") == EU_HOST == "https://events.eu1.segmentapis.com"
    assert resolve_host("us", "https://proxy.example/v1/") == "https://proxy.example"
    with pytest.raises(ValueError):
        resolve_host("apac")
    with pytest.raises(ValueError):
        resolve_host("us", "proxy.example")
    assert SegmentClient("k", region="eu").endpoint == "https://events.eu1.segmentapis.com/v1/batch"


def test_basic_auth_is_key_colon_base64():
    assert basic_auth_header("abc123") == "Basic YWJjMTIzOg=="


def test_batch_on_the_wire(fake, make_client):
    client = make_client(gzip=True)
    res = client.send(payloads(3))
    assert res.ok and res.status == 200
    (req,) = fake.requests
    assert req.path == "/v1/batch" and req.gzip
    assert req.headers["authorization"] == "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    assert req.headers["user-agent"] == f"segmap/{__version__}"
    assert fake.received_ids == {f"segmap-msg_c-{i}" for i in range(3)}
    item = fake.messages["segmap-msg_c-0"]
    assert item["type"] == "track" and item["context"]["library"]["name"] == "segmap"
    assert fake.violations == []


def test_uncompressed_when_gzip_is_off(fake, make_client):
    assert make_client(gzip=False).send(payloads(1)).ok
    assert not fake.requests[0].gzip and "content-encoding" not in fake.requests[0].headers


def test_sent_at_is_stamped_on_every_attempt(fake, make_client, monkeypatch):
    stamps = iter(["2025-01-01T00:00:00.000Z", "2025-01-01T00:00:05.000Z"])
    monkeypatch.setattr("segmap.delivery.segment_client.format_sent_at", lambda: next(stamps))
    fake.script(Status(503))
    client = make_client()
    assert client.send(payloads(1)).outcome is Outcome.RETRY
    assert client.send(payloads(1)).ok
    assert [r.sent_at for r in fake.requests] == ["2025-01-01T00:00:00.000Z", "2025-01-01T00:00:05.000Z"]
    assert fake.messages["segmap-msg_c-0"]["sentAt"] == "2025-01-01T00:00:05.000Z"


def test_answers_are_classified(fake, make_client):
    client = make_client(timeout=httpx.Timeout(0.3))
    fake.script(Status(429, retry_after="3"), Status(503), Status(400), Status(401), Status(501), Reset(), Hang(2.0))
    results = [client.send(payloads(1)) for _ in range(7)]
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY, Outcome.REJECTED, Outcome.AUTH,
                                            Outcome.ENDPOINT, Outcome.RETRY, Outcome.RETRY]
    assert results[0].retry_after == 3.0 and results[0].status == 429
    assert results[5].status is None and results[6].detail.startswith("timeout")
    assert client.send(payloads(1)).ok  # the pool recovers after a reset and a hang


def test_wrong_key_is_auth_and_can_be_swapped_without_a_new_client(fake, make_client):
    client = make_client(write_key="wrong")
    assert client.send(payloads(1)).outcome is Outcome.AUTH
    client.set_write_key(WRITE_KEY)
    assert client.send(payloads(1)).ok


def test_refuses_locally_what_segment_would_reject_for_the_batch(fake, make_client):
    client = make_client()
    big = encode_call("w", 0, Call("track", {"userId": "u", "event": "E", "properties": {"b": "x" * 40_000}}))
    assert client.send([big.payload]).outcome is Outcome.REJECTED
    many = payloads(2501)
    assert client.send(many).outcome is Outcome.REJECTED
    assert fake.requests == []  # nothing went out


def test_key_never_in_repr_or_error_details(fake, make_client):
    client = make_client()
    fake.script(Status(503, body=b"upstream said\nno\x00 " + b"z" * 1000))
    res = client.send(payloads(1))
    assert WRITE_KEY not in repr(client) and WRITE_KEY not in res.detail
    assert "\n" not in res.detail and "\x00" not in res.detail and len(res.detail) <= 300
