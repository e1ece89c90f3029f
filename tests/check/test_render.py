"""`segmap check` output: text (rustc-style), json (stable schema), github annotations, coverage."""
import json

from segmap.compiler.api import check_source
from segmap.diagnostics.model import Diagnostic, Severity, SourceMap, Span
from segmap.diagnostics.render import render_github, render_json, render_text

BAD = ("version: 1\nevents:\n  payment.succeeded:\n    - track: Order Completed\n"
       "      userId: data.customer.customer_idd\n      properties:\n        revenue: data.total_amount / 100\n")


def test_text_has_code_location_source_caret_note_help_and_fixed_line():
    res = check_source(BAD, "m.yaml")
    e203 = render_text(res.diagnostics[0], res.sources)
    assert e203.splitlines() == [
        "error[E203]: `data.customer` (object CustomerLimitedDetails) has no field `customer_idd`",
        " --> m.yaml:5:29",
        "  |",
        "5 |       userId: data.customer.customer_idd",
        "  |                             ^^^^^^^^^^^^",
        "  = note: the fields of object CustomerLimitedDetails: customer_id, email, metadata, name, phone_number",
        "  = help: did you mean `customer_id`?",
        "  |",
        "5 |       userId: data.customer.customer_id",
        "  |                             ~~~~~~~~~~~",
    ]
    w430 = render_text(res.diagnostics[1], res.sources)
    assert w430.startswith("warning[W430]") and "^^^^^^^^^^^^^^^^^^^^^^^" in w430
    assert "= hint: to_major(amount, currency)" in w430


def test_colour_only_when_asked():
    res = check_source(BAD, "m.yaml")
    assert "\x1b[" not in render_text(res.diagnostics[0], res.sources)
    coloured = render_text(res.diagnostics[0], res.sources, colour=True)
    assert "\x1b[1;31merror[E203]" in coloured


def test_caret_under_wide_characters_and_tabs():
    d = Diagnostic("E203", Severity.ERROR, "x", Span("f", 1, 4, 1, 6))
    out = render_text(d, SourceMap({"f": "日本.ab"})).splitlines()
    assert out[-1].endswith("     ^^")  # 日本 take four cells, the dot one


def test_json_document_schema():
    res = check_source(BAD, "m.yaml")
    doc = json.loads(render_json(res.diagnostics, files=1))
    assert doc["version"] == 1 and doc["summary"] == {"errors": 1, "warnings": 1, "files": 1, "unreadable": 0}
    first = doc["diagnostics"][0]
    assert list(first) == ["code", "severity", "title", "message", "file", "line", "column", "end_line",
                           "end_column", "notes", "suggestion", "hint"]
    assert (first["code"], first["line"], first["column"], first["end_column"]) == ("E203", 5, 29, 41)
    assert first["title"] == "unknown field" and first["suggestion"] == "customer_id"


def test_github_annotation():
    res = check_source(BAD, "m.yaml")
    line = render_github(res.diagnostics[1])
    assert line.startswith("::warning file=m.yaml,line=7,col=18,endColumn=41,title=W430 hard-coded / 100 on a money amount::")
    assert "%0Ahint: " in line and "\n" not in line


def test_cli_formats_exit_codes_and_coverage(segmap_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    warn = tmp_path / "warn.yaml"
    warn.write_text(BAD.replace("customer_idd", "customer_id"))
    r = segmap_cli("check", str(bad), str(warn), "--format", "json", "--coverage")
    assert r.returncode == 1
    doc = json.loads(r.stdout)  # one document, coverage included
    assert doc["summary"] == {"errors": 1, "warnings": 2, "files": 2, "unreadable": 0}
    cov = doc["coverage"][str(warn)]
    assert cov["mapped"] == 1 and cov["total"] == 48 and "refund.succeeded" in cov["unmapped"]
    assert segmap_cli("check", str(warn)).returncode == 0  # warnings pass ...
    assert segmap_cli("check", str(warn), "--strict").returncode == 1  # ... unless --strict
    r = segmap_cli("check", str(warn), "--coverage")
    assert "1 of 48 Dodo event types mapped:" in r.stdout and "  unmapped: payout.success" in r.stdout
    r = segmap_cli("check", str(bad), "--format", "github")
    assert r.stdout.startswith(f"::error file={bad},line=5,col=29")
