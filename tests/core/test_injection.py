"""A mapping is data: hostile text never becomes code.

Event names, property keys, string constants and template text are drawn
from Hypothesis text (quotes, backslashes, newlines, U+2028/U+2029, code
fragments, emoji ...). The compiled mapping must reproduce each string
exactly, and the generated Python must contain user text only inside
string constants: every identifier in it is one the generator makes.
"""
import ast as pyast
import json
import re

from hypothesis import HealthCheck, given, settings, strategies as st

import segmap
from segmap.samples import sample_envelope

HOSTILE = st.one_of(
    st.sampled_from([
        "'); import os; os.system('x'); ('", '"""', "\\", "\\'", "{x}", "{{", "}}", "${x}", "\n", "\u2028\u2029",
        "__import__('os')", "*/ alert(1) /*", "</script>", "# comment", "__proto__", "constructor", "\x00", "é✓🎉",
        "f\"{env}\"", "ORIGINS", "_M", "env", "calls", "_f.index",
    ]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
)

import segmap.runtime.functions as runtime_functions
from tests.yaml_text import yaml_dq

# Identifiers the generator itself introduces; anything else would be user text turned into code.
FIXED_NAMES = {"env", "calls", "DISPATCH", "ORIGINS", "KeyError", "TypeError", "IndexError", "Call", "MISSING",
               "MappingRuntimeError", "append", "get", "__class__", "dict", "list", "len", "str", "int", "float", "bool",
               "segmap", "runtime", "values", "calls", "functions"}
HELPER_NAMES = {n for n in dir(runtime_functions) if not n.startswith("__")}
GENERATED = re.compile(r"^_[a-zA-Z]+[0-9]*$")


def is_generated(name: str) -> bool:
    return name in FIXED_NAMES or name in HELPER_NAMES or bool(GENERATED.match(name))


yaml_str = yaml_dq


def expr_str(s: str) -> str:
    # a string constant inside an expression (JSON escapes), then quoted for YAML
    return yaml_str(json.dumps(s))


def identifiers(source: str) -> set[str]:
    tree = pyast.parse(source)
    names = set()
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Name):
            names.add(node.id)
        elif isinstance(node, pyast.Attribute):
            names.add(node.attr)
        elif isinstance(node, (pyast.FunctionDef, pyast.arg)):
            names.add(getattr(node, "name", None) or node.arg)
        elif isinstance(node, pyast.alias):
            names.add(node.asname or node.name)
    return names


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(event=HOSTILE.filter(lambda s: s.strip() != "" and s == s.strip() and "\n" not in s and "\r" not in s),
       key=HOSTILE.filter(lambda s: s != ""), const=HOSTILE, text=HOSTILE)
def test_hostile_strings_stay_data(event, key, const, text):
    mapping = "\n".join([
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
    compiled = segmap.compile_source(mapping, "hostile.yaml")
    (call,) = compiled.apply(sample_envelope("payment.succeeded"))
    assert call.body["event"] == event
    assert call.body["properties"][key] == const
    assert call.body["properties"]["t"] == text
    for name in identifiers(compiled.source):
        assert is_generated(name), name
    # every user string appears only as a string constant
    consts = {n.value for n in pyast.walk(pyast.parse(compiled.source)) if isinstance(n, pyast.Constant)}
    assert {event, key, const} <= consts or const == "" or key == "t"
    assert compiled.source.isascii()


@settings(max_examples=25, deadline=None)
@given(name=HOSTILE.filter(lambda s: s != ""))
def test_hostile_file_names(name, tmp_path_factory):
    mapping = "version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.customer.customer_id\n"
    compiled = segmap.compile_source(mapping, name)
    assert compiled.apply(sample_envelope("payment.succeeded"))[0].origin.startswith(name)
    for ident in identifiers(compiled.source):
        assert is_generated(ident), ident


def test_expressions_cannot_reach_python():
    for text in ("__import__('os')", "open('/etc/passwd')", "data.__class__", "eval('1')", "().__class__"):
        mapping = f"version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: {yaml_str(text)}\n"
        diags = segmap.compiler.api.check_source(mapping, "m.yaml").diagnostics
        assert any(d.is_error for d in diags), text
