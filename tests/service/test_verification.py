"""The signature matrix, at the verifier (thousands of examples) and never anything but VerificationFailed."""
from __future__ import annotations

import ast
import base64
import inspect
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from segmap.service import verification
from segmap.service.verification import InvalidSecret, VerificationFailed, Verifier, decode_secret, generate_secret, sign
from tests.service.conftest import SECRET, SECRET_NEW

NOW = 1_750_000_000
BODY = b'{"business_id":"bus_1","type":"payment.succeeded","timestamp":"2025-01-01T00:00:00Z","data":{"x":1}}'
WID = "msg_2Lh9KRb7AbCdEf"


def headers(wid=WID, ts=NOW, sig=None, body=BODY, secret=SECRET):
    sig = sign(secret, wid, ts, body) if sig is None else sig
    return [(b"webhook-id", wid.encode() if isinstance(wid, str) else wid),
            (b"webhook-timestamp", str(ts).encode() if not isinstance(ts, bytes) else ts),
            (b"webhook-signature", sig.encode() if isinstance(sig, str) else sig)]


def verifier(*secrets, now=NOW):
    return Verifier(list(secrets) or [SECRET], clock=lambda: now)


def test_a_valid_request_verifies_and_returns_the_id():
    assert verifier().verify(BODY, headers()) == WID


def mutate(data: bytes, pos: int, new: int) -> bytes:
    b = bytearray(data)
    b[pos % len(b)] = new
    return bytes(b)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(part=st.sampled_from(["id", "ts", "body", "sig"]), pos=st.integers(0, 10_000), new=st.integers(0, 255))
@example(part="sig", pos=45, new=116)  # found by Hypothesis: the last base64 character's two spare bits
def test_any_changed_byte_is_rejected(part, pos, new):
    v = verifier()
    good = dict(headers())
    wid, ts, sig, body = good[b"webhook-id"], good[b"webhook-timestamp"], good[b"webhook-signature"], BODY
    original = {"id": wid, "ts": ts, "sig": sig, "body": body}[part]
    changed = mutate(original, pos, new)
    if changed == original:
        return
    if part == "id":
        wid = changed
    elif part == "ts":
        ts = changed
    elif part == "sig":
        sig = changed
    else:
        body = changed
    with pytest.raises(VerificationFailed):
        v.verify(body, [(b"webhook-id", wid), (b"webhook-timestamp", ts), (b"webhook-signature", sig)])


@settings(max_examples=1500, deadline=None)
@given(wid=st.binary(max_size=300), ts=st.binary(max_size=20), sig=st.binary(max_size=600), body=st.binary(max_size=200))
def test_arbitrary_headers_only_ever_fail_as_verification_failed(wid, ts, sig, body):
    try:
        verifier().verify(body, [(b"webhook-id", wid), (b"webhook-timestamp", ts), (b"webhook-signature", sig)])
    except VerificationFailed as exc:
        assert exc.reason in {"missing_headers", "malformed_headers", "timestamp_too_old", "timestamp_too_new",
                              "bad_signature"}


@pytest.mark.parametrize("sig", [
    "v1", "v1,", "v1,a,b", "v1,abc", "v1,!!!!", "v1,YWJj", ",", "v1,,", " ", "v1," + "A" * 10_000,
    "v1," + "A" * 43 + "=,x", "v1a,abc", "garbage", "v1\t" + "A" * 43 + "=",
])
def test_malformed_signature_tokens_are_401_material_not_exceptions(sig):
    # the library itself raises ValueError / binascii.Error on several of these
    with pytest.raises(VerificationFailed):
        verifier().verify(BODY, headers(sig=sig))


@pytest.mark.parametrize("ts", ["1.5", "1e9", " 12", "+12", "\u0663", "-1", "0x10", f"{NOW}.0", f"{NOW} ", "", "1" * 13])
def test_odd_timestamps_are_rejected(ts):
    with pytest.raises(VerificationFailed):
        verifier().verify(BODY, headers(ts=ts.encode("utf-8"), sig=sign(SECRET, WID, NOW, BODY)))


@pytest.mark.parametrize("wid", ["msg.1", "msg 1", "", "m" * 257, "msg\x00", "msg\u00e9"])
def test_odd_ids_are_rejected(wid):
    sig = sign(SECRET, "x", NOW, BODY)
    with pytest.raises(VerificationFailed):
        verifier().verify(BODY, headers(wid=wid.encode("utf-8"), sig=sig))


def test_a_non_canonical_spelling_of_the_right_digest_is_rejected():
    good = sign(SECRET, WID, NOW, BODY)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(good[-2])
    for spare in (1, 2, 3):  # same 4 data bits, non-zero padding bits: decodes to the same 32 bytes
        other = good[:-2] + alphabet[last | spare] + "="
        assert base64.b64decode(other[3:]) == base64.b64decode(good[3:])
        with pytest.raises(VerificationFailed):
            verifier().verify(BODY, headers(sig=other))


def test_one_valid_signature_among_others_is_enough():
    good = sign(SECRET, WID, NOW, BODY)
    other = sign(SECRET_NEW, WID, NOW, BODY)
    junk = "v1a," + base64.b64encode(b"x" * 64).decode()
    for sig in (f"{other} {good}", f"{junk} {good}", f"garbage v1,abc {good}", f"{good} v2,zzz"):
        assert verifier().verify(BODY, headers(sig=sig)) == WID


def test_rotation_accepts_either_secret_and_the_old_one_stops_after_removal():
    both = verifier(SECRET, SECRET_NEW)
    assert both.verify(BODY, headers(secret=SECRET)) == WID
    assert both.verify(BODY, headers(secret=SECRET_NEW)) == WID
    new_only = verifier(SECRET_NEW)
    assert new_only.verify(BODY, headers(secret=SECRET_NEW)) == WID
    with pytest.raises(VerificationFailed) as exc:
        new_only.verify(BODY, headers(secret=SECRET))
    assert exc.value.reason == "bad_signature"


@pytest.mark.parametrize("offset,ok,reason", [
    (0, True, None), (300, True, None), (-300, True, None),
    (301, False, "timestamp_too_new"), (-301, False, "timestamp_too_old"),
    (100_000, False, "timestamp_too_new"), (-100_000, False, "timestamp_too_old"),
])
def test_tolerance_edges_with_an_injected_clock(offset, ok, reason):
    # the clock is far from the real time: proves the library's own wall-clock check is not consulted
    ts = NOW + offset
    h = headers(ts=ts)
    if ok:
        assert verifier().verify(BODY, h) == WID
    else:
        with pytest.raises(VerificationFailed) as exc:
            verifier().verify(BODY, h)
        assert exc.value.reason == reason


def test_missing_and_repeated_headers():
    h = headers()
    for drop in range(3):
        with pytest.raises(VerificationFailed) as exc:
            verifier().verify(BODY, [x for i, x in enumerate(h) if i != drop])
        assert exc.value.reason == "missing_headers"
    with pytest.raises(VerificationFailed) as exc:
        verifier().verify(BODY, h + [(b"webhook-signature", h[2][1])])
    assert exc.value.reason == "malformed_headers"


def test_a_body_that_is_not_utf8_cannot_verify():
    body = BODY + b"\xff"
    with pytest.raises(VerificationFailed):
        verifier().verify(body, headers(sig=sign(SECRET, WID, NOW, BODY)))


def test_secrets_are_decoded_strictly_and_errors_never_echo_them():
    assert len(decode_secret(SECRET)) == 32
    assert decode_secret(SECRET[len("whsec_"):]) == decode_secret(SECRET)
    assert decode_secret(SECRET.rstrip("=")) == decode_secret(SECRET)
    for bad in ["", "whsec_", "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode(), "whsec_%%%%"]:
        with pytest.raises(InvalidSecret) as exc:
            decode_secret(bad)
        assert bad[6:] == "" or bad[6:] not in str(exc.value)
    g = generate_secret()
    assert g.startswith("whsec_") and len(decode_secret(g)) == 32 and g != generate_secret()


def test_verification_uses_the_library_and_constant_time_comparison():
    import standardwebhooks.webhooks as lib

    assert "compare_digest" in inspect.getsource(lib.Webhook.verify)
    tree = ast.parse(Path(verification.__file__).read_text())
    # our wrapper never compares signatures itself (no == on digests): the library does
    assert not any(isinstance(n, ast.Attribute) and n.attr == "digest" for n in ast.walk(tree))
    assert issubclass(verification._Webhook, lib.Webhook)
