"""Secrets are masked as whole tokens: a short key never mangles the words around it."""
from __future__ import annotations

import base64

import orjson
from hypothesis import given, strategies as st

from segmap.delivery.scrub import REDACTED, TokenMasker
from segmap.delivery.segment_client import SegmentClient
from segmap.service.logs import JsonFormatter, Redactor


def test_a_one_letter_write_key_does_not_turn_known_into_redacted_nown():
    client = SegmentClient("k", host="http://127.0.0.1:9")
    try:
        text = client._scrub('HTTP 401: {"message":"unknown write key k","known":true}')
    finally:
        client.close()
    assert text == f'HTTP 401: {{"message":"unknown write key {REDACTED}","known":true}}'


def test_the_log_redactor_masks_whole_tokens_of_any_length():
    r = Redactor()
    r.add_write_key("k")
    basic = base64.b64encode(b"k:").decode()
    out = r.scrub(f"known keys: k, Basic {basic}, kk, k_1, key=k")
    assert out == f"known keys: {REDACTED}, Basic {REDACTED}, kk, k_1, key={REDACTED}"


def test_a_secret_on_its_own_line_inside_a_json_log_line_is_masked():
    """In a JSON line a newline is the two characters `\\n`: the `n` must not shield the secret."""
    import logging

    r = Redactor()
    r.add_write_key("wk_live_123")
    rec = logging.LogRecord("segmap", logging.ERROR, "x", 1, "boom:\nwk_live_123\tand known", None, None)
    line = JsonFormatter(r).format(rec)
    assert "wk_live_123" not in line and "known" in line
    assert orjson.loads(line)["msg"] == f"boom:\n{REDACTED}\tand known"


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789_"


@given(key=st.text(alphabet=_ALNUM, min_size=1, max_size=8),
       tokens=st.lists(st.one_of(st.just(None), st.text(alphabet=_ALNUM, min_size=1, max_size=12)), max_size=12),
       sep=st.sampled_from([" ", ", ", '":"', "=", "\n", "/"]))
def test_exactly_the_whole_tokens_equal_to_the_key_are_masked(key, tokens, sep):
    words = [key if t is None else t for t in tokens]
    text = sep.join(words)
    expected = sep.join(REDACTED if w == key else w for w in words)
    assert TokenMasker([key])(text) == expected
