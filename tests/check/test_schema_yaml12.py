"""The editor schema under YAML 1.2, as editors read YAML: every mistake docs/check.md says it
flags is flagged, every one it says it leaves to `segmap check` is not, read with ruamel.yaml
(YAML 1.2) and with the check-jsonschema CLI (a YAML 1.2 validator), not with PyYAML (YAML 1.1)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from segmap.compiler.json_schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
GOOD = [ROOT / "segmap/cli/starter.yaml", ROOT / "bench/all_events.yaml", *sorted((ROOT / "examples").glob("*.y*ml"))]


def yaml12(text: str):
    y = YAML(typ="safe", pure=True)
    assert y.load("a: yes")["a"] == "yes", "not a YAML 1.2 reader"
    return y.load(StringIO(text))


def table(heading: str) -> list[tuple[str, str]]:
    """(what, example) rows of the docs table whose header starts with `heading`."""
    start = DOC.index(f"| {heading}")
    rows = []
    for line in DOC[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        m = re.match(r"\| (.+?) \| `(.+)` \|$", line)
        assert m, line
        rows.append((m.group(1), m.group(2)))
    return rows


FLAGGED = table("the schema flags")
NOT_FLAGGED = table("the schema does not flag")


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft7Validator(build_schema())


def test_the_docs_tables_are_there():
    assert len(FLAGGED) >= 10 and len(NOT_FLAGGED) >= 3
    assert any("yes" in ex for _, ex in FLAGGED)


@pytest.mark.parametrize("what, example", FLAGGED, ids=[w for w, _ in FLAGGED])
def test_what_the_docs_say_the_schema_flags_is_flagged_under_yaml_12(validator, what, example):
    assert list(validator.iter_errors(yaml12(example))), f"{what}: not flagged under YAML 1.2"


@pytest.mark.parametrize("what, example", NOT_FLAGGED, ids=[w for w, _ in NOT_FLAGGED])
def test_what_the_docs_leave_to_segmap_check_passes_the_schema(validator, what, example):
    assert not list(validator.iter_errors(yaml12(example)))
    from segmap.compiler.api import check_source

    assert any(d.is_error for d in check_source(example, "x.yaml").diagnostics), what


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_shipped_mappings_validate_under_yaml_12(validator, path):
    assert not [e.message for e in validator.iter_errors(yaml12(path.read_text(encoding="utf-8")))]


def _check_jsonschema(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess:
    schema = tmp_path / "segmap.schema.json"
    schema.write_text(json.dumps(build_schema()))
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    return subprocess.run([exe, "--schemafile", str(schema), *map(str, files)], capture_output=True, text=True,
                          timeout=120)


def test_check_jsonschema_agrees(tmp_path):
    r = _check_jsonschema(tmp_path, *GOOD)
    assert r.returncode == 0, r.stdout + r.stderr
    bad = []
    for i, (_what, example) in enumerate(FLAGGED):
        path = tmp_path / f"bad{i}.yaml"
        path.write_text(example + "\n")
        bad.append(path)
    r = _check_jsonschema(tmp_path, *bad)
    assert r.returncode == 1
    failing = set(re.findall(r"(bad\d+\.yaml)::", r.stdout))
    assert failing == {p.name for p in bad}, r.stdout
    ok = tmp_path / "ok.yaml"
    ok.write_text(NOT_FLAGGED[0][1] + "\n")
    assert _check_jsonschema(tmp_path, ok).returncode == 0
