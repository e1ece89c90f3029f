"""The YAML layer: spans for every node, and refusal of what hides meaning.

Every test here runs under both parsers PyYAML may bring: libyaml's (the default when the
wheel has it) and the pure-Python one, since users get whichever their platform builds.
"""
import pytest
import yaml

from segmap.dsl import yaml_source
from segmap.dsl.yaml_source import MAX_DEPTH, YMap, YScalar, YSeq, load_yaml

_PARSERS = [pytest.param(getattr(yaml, "CSafeLoader", None), id="libyaml",
                         marks=pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"),
                                                  reason="this PyYAML was built without libyaml")),
            pytest.param(yaml.SafeLoader, id="pure-python")]


@pytest.fixture(autouse=True, params=_PARSERS)
def yaml_parser(request, monkeypatch):
    monkeypatch.setattr(yaml_source, "_Loader", request.param)
    return request.param


def codes(diags):
    return [(d.code, d.span.line, d.span.col) for d in diags]


def test_spans_of_keys_and_values():
    root, diags = load_yaml("version: 1\nevents:\n  a.b:\n    - track: X\n", "f.yaml")
    assert diags == []
    assert isinstance(root, YMap)
    ev = root.get("events")
    key, seq = ev.items[0]
    assert (key.value, key.span.line, key.span.col) == ("a.b", 3, 3)
    assert isinstance(seq, YSeq)
    call = seq.items[0]
    name = call.get("track")
    assert isinstance(name, YScalar) and (name.span.line, name.span.col) == (4, 14)


def test_alias_anchor_tag_and_duplicate_are_refused_with_locations():
    text = "a: &x 1\nb: *x\nc: !!str 2\nc: 3\n"
    _, diags = load_yaml(text, "f.yaml")
    assert codes(diags) == [("E002", 1, 4), ("E002", 2, 4), ("E003", 3, 4), ("E004", 4, 1)]


def test_merge_key_alias_is_refused():
    _, diags = load_yaml("d: &d {a: 1}\ne:\n  <<: *d\n", "f.yaml")
    assert {d.code for d in diags} == {"E002"}


def test_syntax_error_is_located():
    _, diags = load_yaml("a: [1, 2\nb: 3\n", "f.yaml")
    assert [d.code for d in diags] == ["E001"]
    assert diags[0].span.line >= 1


def test_deep_nesting_is_bounded_not_a_recursion_error():
    text = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    root, diags = load_yaml(text, "f.yaml")
    assert root is None and [d.code for d in diags] == ["E005"]
    # the root mapping is level 1, so the first refused `[` is the MAX_DEPTH-th one, at column 3 + MAX_DEPTH
    assert (diags[0].span.line, diags[0].span.col) == (1, len("a: ") + MAX_DEPTH)


@pytest.mark.parametrize("depth", [2000, 20000])
def test_segmap_bound_wins_over_any_parser_limit(depth):
    """libyaml's own limit (1000 in PyYAML 6.0.4) is far past ours; ours must report first."""
    text = "x: 1\nb: " + "{k: " * depth + "1" + "}" * depth + "\n"
    root, diags = load_yaml(text, "f.yaml")
    first_refused = len("b: ") + len("{k: ") * (MAX_DEPTH - 1) + 1
    assert root is None and codes(diags) == [("E005", 2, first_refused)]


def test_nesting_just_inside_the_bound_loads():
    inner = MAX_DEPTH - 1  # plus the root mapping
    text = "a: " + "[" * inner + "1" + "]" * inner + "\n"
    root, diags = load_yaml(text, "f.yaml")
    assert diags == [] and isinstance(root, YMap)


def test_scalars_are_not_type_resolved():
    root, _ = load_yaml("a: yes\nb: 012\nc: 1.10\nd: ~\n", "f.yaml")
    assert [v.value for _, v in root.items] == ["yes", "012", "1.10", "~"]


def test_offsets_inside_quoted_and_block_scalars():
    text = 'a: "x.y ?? 1"\nb: >-\n  data.\n  c\n'
    root, _ = load_yaml(text, "f.yaml")
    a = root.get("a")
    assert a.pos(0) == (1, 5)  # inside the quotes
    b = root.get("b")
    assert b.value == "data. c"
    assert b.pos(0) == (3, 3) and b.pos(6) == (4, 3)


def test_multiple_documents_refused():
    _, diags = load_yaml("a: 1\n---\nb: 2\n", "f.yaml")
    assert [d.code for d in diags] == ["E010"]
