"""Signing and verification pinned to the Standard Webhooks known answer.

The secret, id, timestamp, body and signature below are the example the Standard Webhooks
project publishes with its reference libraries (their `sign` test): an answer computed by
someone else, so a change in how segmap (or the library it wraps) builds the signed content,
decodes the `whsec_` secret or encodes the digest fails here even if signing and verifying
still agree with each other.
"""
from __future__ import annotations

import pytest

from segmap.service.verification import VerificationFailed, Verifier, sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(signature: str = SIGNATURE, msg_id: str = MSG_ID, timestamp: int = TIMESTAMP):
    return [(b"webhook-id", msg_id.encode()), (b"webhook-timestamp", str(timestamp).encode()),
            (b"webhook-signature", signature.encode())]


def _verifier() -> Verifier:
    return Verifier([SECRET], clock=lambda: TIMESTAMP + 1)


def test_signing_gives_the_published_signature():
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE


def test_the_published_signature_verifies():
    assert _verifier().verify(BODY, _headers()) == MSG_ID


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "signature"])
def test_any_other_input_does_not_verify(change):
    body, headers = BODY, _headers()
    if change == "body":
        body = b'{"test": 2432232315}'
    elif change == "id":
        headers = _headers(msg_id=MSG_ID[:-1] + "l")
    elif change == "timestamp":
        headers = _headers(timestamp=TIMESTAMP + 1)
    else:
        headers = _headers(signature=SIGNATURE.replace("OE=", "OA="))
    with pytest.raises(VerificationFailed):
        _verifier().verify(body, headers)
