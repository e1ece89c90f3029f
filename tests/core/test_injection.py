"""A mapping is data: hostile text never becomes code.

Event names, property keys, string constants and template text are drawn
from Hypothesis text (quotes, backslashes, newlines, U+2028/U+2029, code
fragments, emoji ...). The compiled mapping must reproduce each string
exactly, and the generated Python must contain user text only inside
string constants: blank those out, and it is the program generated for the
same mapping with harmless placeholders (the technique tests/js/test_injection.py
uses for the exported JavaScript).
"""
import ast as pyast
import json

from hypothesis import HealthCheck, given, settings, strategies as st

import segmap
from segmap.samples import sample_envelope
from tests.yaml_text import yaml_dq

HOSTILE = st.one_of(
    st.sampled_from([
        "'); import os; os.system('x'); ('", '"""', "\\", "\\'", "{x}", "{{", "}}", "${x}", "\n", "\u2028\u2029",
        "__import__('os')", "*/ alert(1) /*", "</script>", "# comment", "__proto__", "constructor", "\x00", "é✓🎉",
        "f\"{env}\"", "ORIGINS", "_M", "env", "calls", "_f.index",
    ]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
)

yaml_str = yaml_dq


def expr_str(s: str) -> str:
    # a string constant inside an expression (JSON escapes), then quoted for YAML
    return yaml_str(json.dumps(s))


def code_only(source: str) -> str:
    """The generated module with every string (and bytes) constant blanked: where user text may be."""
    tree = pyast.parse(source)
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Constant) and isinstance(node.value, (str, bytes)):
            node.value = type(node.value)()
    return pyast.dump(tree, include_attributes=False)


def mapping_text(event: str, key: str, const: str, text: str) -> str:
    return "\n".join([
        "version: 1",
        "events:",
        "  payment.succeeded:",
        f"    - track: {yaml_str(event)}",
        "      userId: data.customer.customer_id",
        "      properties:",
        f"        {yaml_str(key)}: {expr_str(const)}",
        f"        t: {yaml_str('f' + json.dumps(text.replace('{', '{{').replace('}', '}}')))}",
        "",
    ])


def placeholders(*texts: str) -> list[str]:
    """Harmless stand-ins, equal where the texts are equal (so a dict keeps its shape)."""
    table: dict[str, str] = {"t": "t"}  # the fixed key `t` stays itself
    return [table.setdefault(t, f"p{len(table)}") for t in texts]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(event=HOSTILE.filter(lambda s: s.strip() != "" and s == s.strip() and "\n" not in s and "\r" not in s),
       key=HOSTILE.filter(lambda s: s != ""), const=HOSTILE, text=HOSTILE)
def test_hostile_strings_stay_data(event, key, const, text):
    """The program compiled from hostile text is, string constants aside, the program compiled from
    placeholders: user text changed no code, only the contents of string literals."""
    compiled = segmap.compile_source(mapping_text(event, key, const, text), "hostile.yaml")
    (call,) = compiled.apply(sample_envelope("payment.succeeded"))
    assert call.body["event"] == event
    assert call.body["properties"][key] == const
    assert call.body["properties"]["t"] == text
    plain = segmap.compile_source(mapping_text(*placeholders(event, key, const, text)), "plain.yaml")
    assert code_only(compiled.source) == code_only(plain.source)
    assert compiled.source.isascii()


def test_code_only_sees_text_that_became_code():
    """The comparison above can fail: a name where a string constant stood changes the code."""
    assert code_only("x = 'a'") == code_only("x = 'b'")
    assert code_only("x = 'a'") != code_only("x = a")
    assert code_only("f('a')") != code_only("f('a', os)")


@settings(max_examples=25, deadline=None)
@given(name=HOSTILE.filter(lambda s: s != ""))
def test_hostile_file_names(name):
    mapping = "version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.customer.customer_id\n"
    compiled = segmap.compile_source(mapping, name)
    assert compiled.apply(sample_envelope("payment.succeeded"))[0].origin.startswith(name)
    assert code_only(compiled.source) == code_only(segmap.compile_source(mapping, "plain.yaml").source)


def test_expressions_cannot_reach_python():
    for text in ("__import__('os')", "open('/etc/passwd')", "data.__class__", "eval('1')", "().__class__"):
        mapping = f"version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: {yaml_str(text)}\n"
        diags = segmap.compiler.api.check_source(mapping, "m.yaml").diagnostics
        assert any(d.is_error for d in diags), text
