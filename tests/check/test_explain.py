"""`segmap explain`: every code is documented, with an example; unknown codes exit 2."""
import re
from pathlib import Path

import pytest

from segmap.diagnostics.codes import CODES
from segmap.diagnostics.model import Severity

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_has_title_explanation_and_example():
    for code, info in CODES.items():
        assert re.fullmatch(r"[EWN]\d{3}", code) and info.code == code
        assert info.severity is {"W": Severity.WARNING, "N": Severity.NOTE}.get(code[0], Severity.ERROR)
        assert info.title and len(info.explanation) > 60 and info.example.strip(), code


def test_every_code_the_source_reports_is_in_the_catalogue():
    reported = set()
    for path in (ROOT / "segmap").rglob("*.py"):
        reported |= set(re.findall(r"""["']([EWN]\d{3})["']""", path.read_text(encoding="utf-8")))
    assert reported - set(CODES) == set()


def test_codes_follow_the_numbering_groups():
    groups = {"0": "file/YAML", "1": "syntax", "2": "names", "3": "types", "4": "Segment", "5": "run time", "6": "tests",
              "7": "backfill"}
    for code in CODES:
        assert code[1] in groups, code


def test_explain_prints_doc_and_example(segmap_cli):
    r = segmap_cli("explain", "w430")
    assert r.returncode == 0
    assert r.stdout.startswith("W430 (warning): hard-coded / 100 on a money amount")
    assert "Example:" in r.stdout and "to_major(data.total_amount, data.currency)" in r.stdout


def test_explain_list_and_json(segmap_cli):
    r = segmap_cli("explain", "--list")
    assert r.returncode == 0
    listed = [line.split()[0] for line in r.stdout.splitlines()]
    assert sorted(listed) == sorted(CODES)
    import json

    r = segmap_cli("explain", "E303", "--format", "json")
    assert json.loads(r.stdout)["title"] == CODES["E303"].title


@pytest.mark.parametrize("arg,near", [("E2033", "E203"), ("W203", "E203"), ("E999", None)])
def test_unknown_code_exits_2_with_did_you_mean(segmap_cli, arg, near):
    r = segmap_cli("explain", arg)
    assert r.returncode == 2 and "unknown code" in r.stderr
    if near:
        assert near in r.stderr


def test_docs_list_every_code():
    text = (ROOT / "docs/check.md").read_text(encoding="utf-8")
    missing = [code for code in CODES if f"| `{code}` |" not in text]
    assert missing == [], f"add {missing} to the catalogue table in docs/check.md"
