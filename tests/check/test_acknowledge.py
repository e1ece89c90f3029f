"""Acknowledged warnings: `# segmap: allow CODE`, `allow-file`, `--ignore`."""
import json
from textwrap import dedent

from segmap.compiler.api import check_source
from tests.check.conftest import ROOT

SEED = """\
version: 1
events:
  payment.succeeded:
    - track: Payment Completed
      userId: data.customer.customer_id
      properties:
        amount: fixed(data.total_amount / 100, 2){ack}
        tax: fixed(data.tax / 100, 2)
"""


def _codes(text: str, **kw):
    r = check_source(dedent(text), "m.yaml", **kw)
    return [(d.code, d.span.line) for d in r.diagnostics], sorted((d.code, d.span.line) for d in r.acknowledged)


def test_inline_allow_covers_its_line_only():
    reported, acked = _codes(SEED.format(ack="  # segmap: allow W410, W430 -- as the seed"))
    assert reported == [("W410", 8), ("W430", 8)]
    assert acked == [("W410", 7), ("W430", 7)]


def test_inline_allow_on_a_key_covers_its_block_value():
    text = SEED.replace("amount: fixed(data.total_amount / 100, 2){ack}",
                        "amount: >-  # segmap: allow W430\n          fixed(data.total_amount / 100, 2)")
    reported, acked = _codes(text)
    # the value starts on line 8, below the key and its comment; W410 was not acknowledged
    assert acked == [("W430", 8)]
    assert reported == [("W410", 8), ("W410", 9), ("W430", 9)]


def test_allow_file_covers_every_line():
    reported, acked = _codes("# segmap: allow-file W430\n" + SEED.format(ack=""))
    assert [c for c, _ in reported] == ["W410", "W410"]
    assert [c for c, _ in acked] == ["W430", "W430"]


def test_codes_are_case_insensitive_and_comma_or_space_separated():
    reported, acked = _codes(SEED.format(ack="  # segmap: allow w410 W430"))
    assert len(acked) == 2 and ("W014", 7) not in reported


def test_an_unused_acknowledgement_is_reported_at_its_code():
    r = check_source(SEED.format(ack="  # segmap: allow W410, W430, W420"), "m.yaml")
    (w014,) = [d for d in r.diagnostics if d.code == "W014"]
    line = SEED.format(ack="  # segmap: allow W410, W430, W420").splitlines()[6]
    assert (w014.span.line, w014.span.col - 1) == (7, line.index("W420")) and "W420" in w014.message


def test_an_acknowledgement_without_codes_is_reported():
    reported, _ = _codes(SEED.format(ack="  # segmap: allow everything"))
    assert ("W014", 7) in reported


def test_errors_cannot_be_acknowledged():
    text = SEED.format(ack="").replace("customer_id", "customer_idd  # segmap: allow E203")
    reported, acked = _codes(text)
    assert ("E203", 5) in reported and ("W015", 5) in reported and acked == []


def test_a_comment_inside_a_quoted_value_is_not_an_acknowledgement():
    text = SEED.format(ack="").replace("tax: fixed(data.tax / 100, 2)", "note: '\"#segmap: allow W430\"'")
    reported, acked = _codes(text)
    assert acked == [] and ("W430", 7) in reported


def test_ignore_acknowledges_warnings_everywhere_silently():
    reported, acked = _codes(SEED.format(ack=""), ignore=("W410", "W999"))
    assert [c for c, _ in reported] == ["W430", "W430"] and [c for c, _ in acked] == ["W410", "W410"]


def test_the_seed_starter_passes_strict(segmap_cli):
    for path in ["segmap/cli/starter.yaml", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("examples/seed-*.yaml"))]:
        r = segmap_cli("check", "--strict", path)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "acknowledged" in r.stdout


def test_cli_ignore_and_strict(segmap_cli, tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(SEED.format(ack=""))
    assert segmap_cli("check", "--strict", str(f)).returncode == 1
    r = segmap_cli("check", "--strict", "--ignore", "W410,W430", str(f))
    assert r.returncode == 0 and "4 acknowledged" in r.stdout, r.stdout + r.stderr
    r = segmap_cli("check", "--strict", "--ignore", "W410", "--format", "json", str(f))
    assert r.returncode == 1 and {d["code"] for d in json.loads(r.stdout)["diagnostics"]} == {"W430"}
    r = segmap_cli("check", "--ignore", "E203", str(f))
    assert r.returncode == 2 and "errors cannot be ignored" in r.stderr


def test_explicit_null_is_not_warned_but_a_possible_null_is():
    text = """\
    version: 1
    events:
      payment.succeeded:
        - track: Order Completed
          userId: data.customer.customer_id
          timestamp: 'if data.tax != null then timestamp else null'
          properties:
            revenue: 'if data.tax != null then to_major(data.total_amount, data.currency) else null'
            total: to_major(data.tax, data.currency) ?? null
            value: to_major(data.tax, data.currency)
    """
    reported, _ = _codes(text)
    assert reported == [("W304", 10)]  # only `value:`, whose null (to_major passes data.tax's on) the author did not write


def test_ordering_null_note_only_where_javascript_differs():
    text = """\
    version: 1
    events:
      payment.succeeded:
        - track: Order Completed
          userId: data.customer.customer_id
          properties:
            a: data.tax > 0
            b: data.tax < 100
            c: 0 <= data.tax
            d: data.tax != null and data.tax >= 0
            e: (data.tax ?? 0) >= 0
            f: data.tax > data.total_amount
    """
    reported, _ = _codes(text)
    assert reported == [("N301", 8), ("N301", 9), ("N301", 12)]


def test_strict_is_not_failed_by_notes(segmap_cli, tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("version: 1\nevents:\n  payment.succeeded:\n    - track: Taxed\n"
                 "      when: data.tax >= 0\n      userId: data.customer.customer_id\n")
    r = segmap_cli("check", "--strict", str(f))
    assert r.returncode == 0 and "N301" in r.stdout, r.stdout + r.stderr


def test_the_docs_example_acknowledges_what_it_says():
    import re

    text = (ROOT / "docs/check.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(# segmap: allow-file.*?)```", text, re.S).group(1)
    r = check_source(block, "example.yaml")
    assert r.diagnostics == []
    assert sorted({d.code for d in r.acknowledged}) == ["W304", "W410", "W430"]
