"""The YAML layer: spans for every node, and refusal of what hides meaning."""
from segmap.dsl.yaml_source import YMap, YScalar, YSeq, load_yaml


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
