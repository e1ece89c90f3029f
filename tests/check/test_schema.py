"""The JSON Schema of mapping files: generated from segmap's tables, valid, and true to the loader."""
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from segmap.compiler.functions import FUNCTIONS
from segmap.compiler.json_schema import build_schema
from segmap.compiler.snapshot import event_types
from segmap.dsl.segment_fields import CALL_FIELDS

ROOT = Path(__file__).resolve().parents[2]
GOOD = [ROOT / "segmap/cli/starter.yaml", ROOT / "bench/all_events.yaml", *sorted((ROOT / "examples").glob("*.y*ml"))]


@pytest.fixture(scope="module")
def validator():
    schema = build_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_schema_is_built_from_the_tables():
    schema = build_schema()
    assert sorted(schema["properties"]["events"]["properties"]) == event_types()
    defs = schema["definitions"]
    for kind, fields in CALL_FIELDS.items():
        assert set(defs[f"{kind}_call"]["properties"]) == {kind, "when", *fields}
    listing = defs["expression"]["markdownDescription"]
    assert all(f"`{spec.signature}`" in listing for spec in FUNCTIONS.values())


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_shipped_mappings_validate(validator, path):
    errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("mistake", [
    "version: 1\nevent: {}\n",                                                      # unknown top-level key
    "version: 2\nevents: {}\n",                                                     # unsupported version
    "version: 1\nevents:\n  payment.succeded:\n    - track: X\n",                    # unknown event type
    "version: 1\nevents:\n  payment.succeeded:\n    - trak: X\n",                    # not a call
    "version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      user_id: a\n",  # unknown Segment field
    "version: 1\nevents:\n  payment.succeeded:\n    - identify:\n      event: a\n",   # field of another call
    "version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      messageId: a\n",  # reserved field
    "version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      properties: a\n",  # properties not an object
    "version: 1\nevents:\n  payment.succeeded:\n    - track: yes\n",                  # a YAML boolean as name
])
def test_structural_mistakes_are_rejected(validator, mistake):
    assert list(validator.iter_errors(yaml.safe_load(mistake)))


def test_glob_patterns_are_accepted(validator):
    assert not list(validator.iter_errors(yaml.safe_load("version: 1\nevents:\n  subscription.*:\n    - track: X\n")))


def test_cli_prints_the_same_schema(segmap_cli, tmp_path):
    r = segmap_cli("schema")
    assert r.returncode == 0 and json.loads(r.stdout) == build_schema()
    out = tmp_path / "s.json"
    assert segmap_cli("schema", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text()) == build_schema()
