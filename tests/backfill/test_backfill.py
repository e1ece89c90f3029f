"""`segmap backfill` against a real HTTP stand-in for Dodo's API, with the real SDK pointed at it.

The oracle is the fake's ground truth: every stored object knows the webhook
payload its state stands for, so the calls a backfill must produce are the
mapping applied to *that* envelope, and the messageIds Segment must end up
with follow from the documented id of each fact.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from tests.conftest import require_tool  # noqa: E402

require_tool("dodopayments")

import segmap  # noqa: E402
from segmap.backfill.runner import webhook_id_for  # noqa: E402
from segmap.delivery.message import message_id_for  # noqa: E402
from segmap.delivery.outbox import SqliteOutbox  # noqa: E402
from segmap.delivery.outbox.store import FIRST_START_KEY  # noqa: E402
from tests.fakes.fake_dodo import FakeDodo, History  # noqa: E402
from tests.fakes.fake_segment import FakeSegment  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
UNTIL = datetime(2026, 1, 1, tzinfo=timezone.utc)
SINCE = UNTIL - timedelta(days=40)
API_KEY = "dodo_test_key_6b1f"
WRITE_KEY = "wk_backfill_7c2e"

# reads only what a listing carries (payments, subscriptions) and what needs a retrieve (the cart)
MAPPING = """\
version: 1
defaults:
  userId: data.customer.customer_id
  timestamp: timestamp
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        order_id: data.payment_id
        revenue: to_major(data.total_amount, data.currency)
        currency: data.currency
        products: >-
          map(data.product_cart ?? [], p => {product_id: p.product_id, quantity: p.quantity})
  payment.failed:
    - track: Payment Failed
      properties:
        order_id: data.payment_id
  subscription.*:
    - track: Subscription Changed
      properties:
        subscription_id: data.subscription_id
        status: data.status
  refund.succeeded:
    - track: Order Refunded
      userId: '"refunds"'
      properties:
        order_id: data.payment_id
        refund_id: data.refund_id
"""


def _env(dodo_url: str, **extra) -> dict:
    env = dict(os.environ, DODO_PAYMENTS_API_KEY=API_KEY, DODO_PAYMENTS_BASE_URL=dodo_url,
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("SEGMAP_DB", None)
    env.update(extra)
    return env


def backfill(tmp_path, dodo, *args, env=None, check=False, timeout=120, db=None):
    cmd = [sys.executable, "-m", "segmap", "backfill", str(tmp_path / "m.yaml"), "--db", db or str(tmp_path / "o.db"),
           "--max-rps", "0", *args]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env or _env(dodo.url), capture_output=True, text=True,
                          timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def deliver(tmp_path, seg, db=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, SEGMENT_WRITE_KEY=WRITE_KEY, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "segmap", "outbox", "deliver", "--db", db or str(tmp_path / "o.db"),
                           "--host", seg.url, "--once"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def expected_ledger(history: History, mapping_text: str, since=SINCE, until=UNTIL) -> dict[str, dict]:
    """messageId -> body the mapping makes from the real webhook envelope of each fact in range."""
    mapping = segmap.compile_source(mapping_text, "m.yaml")
    out = {}
    for obj in history.all():
        if obj.event_type is None or not (since <= obj.created_at < until) or not mapping.handles(obj.event_type):
            continue
        calls = mapping.apply(history.webhook_envelope(obj))
        wid = webhook_id_for(obj.event_type, obj.object_id)
        for i, call in enumerate(calls):
            out[message_id_for(wid, i)] = call.body
    return out


def _comparable(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in ("messageId", "sentAt", "type", "context")}


@pytest.fixture
def history():
    return History.generate(240, SINCE, UNTIL, seed=11)


@pytest.fixture
def mapping_file(tmp_path):
    (tmp_path / "m.yaml").write_text(MAPPING)
    return tmp_path / "m.yaml"


def test_backfill_lands_every_fact_once_and_a_rerun_adds_nothing(tmp_path, mapping_file, history):
    expected = expected_ledger(history, MAPPING)
    assert len(expected) > 50  # the fixture really exercises the mapping
    with FakeDodo(history, api_key=API_KEY) as dodo, FakeSegment(write_keys={WRITE_KEY}) as seg:
        first = backfill(tmp_path, dodo, "--since", "2025-11-22", "--until", "2026-01-01", "--page-size", "7",
                         check=True)
        assert "payment.succeeded" in first.stdout and "calls queued" in first.stdout
        deliver(tmp_path, seg)
        assert seg.received_ids == set(expected)
        assert not seg.duplicates() and not seg.violations
        for mid, body in expected.items():  # the same bodies a webhook would have produced, byte for byte as JSON
            assert _comparable(seg.messages[mid]) == body, mid
        # pages were read from 0 and every page of a window was read (the SDK's auto-pagination skips page 1)
        pages = {p for _, p in dodo.pages}
        assert 0 in pages and 1 in pages
        # what a listing lacks is retrieved, and only for the events that read it: every mapped payment
        # (the cart, and `timestamp`, which is a payment's `updated_at`, are not listed); of the subscriptions
        # only the expired ones, whose `timestamp` is `expires_at`, a field listings do not carry
        kinds = [o.event_type for o in history.all()]
        assert dodo.requests["retrieve payments"] == kinds.count("payment.succeeded") + kinds.count("payment.failed")
        assert dodo.requests["retrieve subscriptions"] == kinds.count("subscription.expired") > 0
        # disputes, license keys and payouts map to nothing: never listed
        assert dodo.requests["list disputes"] == 0 and dodo.requests["list payouts"] == 0

        listed_before = sum(v for k, v in dodo.requests.items() if k.startswith("list"))
        again = backfill(tmp_path, dodo, "--since", "2025-11-22", "--until", "2026-01-01", check=True)
        assert "already done for this range" in again.stdout
        assert sum(v for k, v in dodo.requests.items() if k.startswith("list")) == listed_before
        restarted = backfill(tmp_path, dodo, "--since", "2025-11-22", "--until", "2026-01-01", "--restart",
                             check=True)
        assert " 0 calls queued" in restarted.stdout and "already queued before" in restarted.stdout
        seg.reset()
        deliver(tmp_path, seg)
        assert seg.received_ids == set()  # nothing new to send


def test_killed_backfill_resumes_and_the_ledger_is_exact(tmp_path, mapping_file, history):
    expected = expected_ledger(history, MAPPING)
    store_path = tmp_path / "o.db"
    with FakeDodo(history, api_key=API_KEY, delay=0.01) as dodo, FakeSegment(write_keys={WRITE_KEY}) as seg:
        cmd = [sys.executable, "-m", "segmap", "backfill", str(mapping_file), "--db", str(store_path),
               "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--page-size", "5", "--max-rps", "0",
               "--window", "3"]
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=_env(dodo.url), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        inbox = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if store_path.exists():
                try:
                    probe = SqliteOutbox(store_path, create=False)
                    inbox = probe.status().inbox
                    probe.close()
                except Exception:  # noqa: BLE001 - the schema may not be there yet
                    inbox = 0
            if inbox >= 20:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the backfill finished before it could be killed: make the fixture slower"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert 20 <= inbox < len(expected)
        store = SqliteOutbox(store_path, create=False)
        cursors = [store.get_state(f"backfill.cursor.{name}") for name in ("payments", "refunds", "subscriptions")]
        store.close()
        assert any(c is None or orjson.loads(c)["done"] is False for c in cursors)  # it stopped mid-way
        resumed = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(),
                           "--page-size", "5", "--window", "3", check=True)
        assert "calls queued" in resumed.stdout
        deliver(tmp_path, seg)
        missing = set(expected) - seg.received_ids
        unexpected = seg.received_ids - set(expected)
        assert not missing and not unexpected, (len(missing), len(unexpected))
        assert not seg.duplicates()


def test_rate_limits_are_waited_out(tmp_path, mapping_file, history):
    with FakeDodo(history, api_key=API_KEY, rate_limit_every=3, retry_after_ms=30) as dodo:
        proc = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(),
                        "--only", "subscriptions,refunds", check=True)
        assert dodo.requests["429"] > 3
        assert "429, retrying in 0.03s" in proc.stderr
    store = SqliteOutbox(tmp_path / "o.db", create=False)
    want = {wid for wid in (webhook_id_for(o.event_type, o.object_id) for o in history.all()
                            if o.event_type and o.resource in ("subscriptions", "refunds")
                            and (o.event_type.startswith("subscription.") or o.event_type == "refund.succeeded"))}
    assert store.status().inbox == len(want)
    store.close()


def test_deep_windows_are_split_instead_of_paging_past_the_cap(tmp_path, mapping_file):
    history = History.generate(150, UNTIL - timedelta(days=1), UNTIL, seed=3, resources=["subscriptions"])
    with FakeDodo(history, api_key=API_KEY, max_page_number=2) as dodo:
        backfill(tmp_path, dodo, "--since", (UNTIL - timedelta(days=1)).isoformat(), "--until", UNTIL.isoformat(),
                 "--page-size", "10", "--max-pages", "3", check=True)
        assert not dodo.violations  # never asked beyond the cap
        assert max(p for _, p in dodo.pages) <= 3
    store = SqliteOutbox(tmp_path / "o.db", create=False)
    assert store.status().inbox == sum(1 for o in history.all() if o.event_type)
    store.close()


def test_dry_run_counts_and_samples_but_queues_nothing(tmp_path, mapping_file, history):
    with FakeDodo(history, api_key=API_KEY) as dodo:
        proc = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--dry-run",
                        "--samples", "2", check=True)
    lines = proc.stdout.splitlines()
    per_event = {ln.split()[0]: int(ln.split()[1].replace(",", "")) for ln in lines
                 if ln.split() and ln.split()[0] in ("payment.succeeded", "payment.failed", "refund.succeeded")}
    truth = {}
    for o in history.all():
        if o.event_type in ("payment.succeeded", "payment.failed", "refund.succeeded"):
            truth[o.event_type] = truth.get(o.event_type, 0) + 1
    assert per_event == truth
    samples = [orjson.loads(ln) for ln in lines if ln.startswith("{")]
    assert len(samples) == 2 and all(s["calls"] for s in samples)
    assert "dry run: nothing was queued" in proc.stdout
    assert not (tmp_path / "o.db").exists()


def test_until_defaults_to_the_first_start_of_serve(tmp_path, mapping_file, history):
    with FakeDodo(history, api_key=API_KEY) as dodo:
        refused = backfill(tmp_path, dodo, "--since", SINCE.isoformat())
        assert refused.returncode == 2 and "--until" in refused.stderr
        boundary = SINCE + timedelta(days=20)
        store = SqliteOutbox(tmp_path / "o.db")
        store.put_state(FIRST_START_KEY, repr(boundary.timestamp()).encode(), only_if_absent=True)
        store.close()
        backfill(tmp_path, dodo, "--since", SINCE.isoformat(), check=True)
    store = SqliteOutbox(tmp_path / "o.db", create=False)
    inbox = store.status().inbox
    store.close()
    mapping = segmap.compile_source(MAPPING, "m.yaml")
    in_range = [o for o in history.all() if o.event_type and mapping.handles(o.event_type)
                and SINCE <= o.created_at < boundary]
    assert inbox == len(in_range)


def test_fields_no_api_returns_are_reported_in_the_mapping_before_anything_is_read(tmp_path, history):
    (tmp_path / "m.yaml").write_text(
        "version: 1\n"
        "events:\n"
        "  subscription.active:\n"
        "    - track: Subscription Started\n"
        "      userId: data.customer.customer_id\n"
        "      properties:\n"
        "        first_payment: data.payment_id\n")
    with FakeDodo(history, api_key=API_KEY) as dodo:
        proc = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat())
        assert proc.returncode == 1
        assert "E701" in proc.stderr and "m.yaml:7:24" in proc.stderr and "data.payment_id" in proc.stderr
        assert sum(dodo.requests.values()) == 0
        allowed = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(),
                           "--allow-missing")
        assert allowed.returncode == 0, allowed.stderr


def test_an_envelope_the_mapping_fails_on_is_quarantined(tmp_path, history):
    (tmp_path / "m.yaml").write_text(
        "version: 1\n"
        "events:\n"
        "  refund.succeeded:\n"
        "    - track: Order Refunded\n"
        "      userId: '\"refunds\"'\n"
        "      properties:\n"
        "        amount: to_major(data.amount, data.currency ?? \x27\"USD\"\x27)\n")
    refunds = [o for o in history.objects["refunds"] if o.event_type == "refund.succeeded"][:2]
    for o in refunds:  # a currency code this segmap does not know yet: the mapping fails at run time
        for d in (o.webhook, o.listed, o.detail):
            d["currency"] = "ZZZ"
    with FakeDodo(history, api_key=API_KEY) as dodo:
        proc = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat())
    assert proc.returncode == 1 and "quarantined" in proc.stdout
    store = SqliteOutbox(tmp_path / "o.db", create=False)
    q = store.list_quarantine()
    store.close()
    assert sorted(item.webhook_id for item in q) == sorted(webhook_id_for("refund.succeeded", o.object_id)
                                                          for o in refunds)
    assert all("m.yaml:7:" in item.location and "ZZZ" in item.error for item in q)


def test_a_wrong_api_key_is_a_clear_error(tmp_path, mapping_file, history):
    with FakeDodo(history, api_key=API_KEY) as dodo:
        proc = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(),
                        env=_env(dodo.url, DODO_PAYMENTS_API_KEY="dodo_canary_91xq"))
    assert proc.returncode == 2 and "refused the API key" in proc.stderr and "dodo_canary_91xq" not in proc.stderr + proc.stdout


def test_backfill_into_a_postgresql_outbox(tmp_path, mapping_file, pg_url):
    history = History.generate(90, SINCE, UNTIL, seed=5)
    expected = expected_ledger(history, MAPPING)
    with FakeDodo(history, api_key=API_KEY) as dodo, FakeSegment(write_keys={WRITE_KEY}) as seg:
        backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), db=pg_url, check=True)
        again = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--restart",
                         db=pg_url, check=True)
        assert " 0 calls queued" in again.stdout
        deliver(tmp_path, seg, db=pg_url)
        assert seg.received_ids == set(expected) and not seg.duplicates()


def test_dry_run_prints_numbers_as_javascript_would(tmp_path, history):
    (tmp_path / "m.yaml").write_text(
        "version: 1\n"
        "events:\n"
        "  payment.failed:\n"
        "    - track: Payment Failed\n"
        "      userId: data.payment_id\n"
        "      properties:\n"
        "        tiny: data.total_amount / 100000000000  # segmap: allow W410\n")
    with FakeDodo(history, api_key=API_KEY) as dodo:
        proc = backfill(tmp_path, dodo, "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--dry-run",
                        "--samples", "1", check=True)
    sample = orjson.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("{")))
    obj = next(o for o in history.all() if o.object_id == sample["webhook_id"].rsplit(":", 1)[1])
    tiny = sample["calls"][0]["body"]["properties"]["tiny"]
    assert tiny == obj.webhook["total_amount"] / 100000000000
    assert "e-" in proc.stdout.split('"tiny":')[1].split("}")[0]  # JavaScript's exponent form, as delivered
