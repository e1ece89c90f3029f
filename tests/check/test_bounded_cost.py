"""The cost of `segmap check` is bounded on any input: time, diagnostics and output.

What an independent measurement found (issue 16): duplicate-key detection was
quadratic (40,000 keys took 86 s), one diagnostic per alias with the whole
source line reprinted each time turned a 750 KB file into 104 MB of JSON,
and a lone surrogate escape crashed the output with a UnicodeEncodeError.
The time bounds here are deliberately generous (they catch a super-linear
blow-up, not a slow machine); the fuzz test is test_check_fuzz.py.
"""
import json
import subprocess
import sys
import time

import pytest

from segmap.compiler.api import check_source
from segmap.diagnostics.cap import CAP_CODE, MAX_DIAGNOSTICS_PER_FILE, cap_per_file
from segmap.diagnostics.model import Diagnostic, Severity, SourceMap, Span
from segmap.diagnostics.render import MAX_SHOWN_LINE, render_github, render_json, render_text
from segmap.diagnostics.text import escape_surrogates, shorten, window

# generous: the linear code needs about 4 ms per KB on a busy 2-core machine,
# the quadratic duplicate-key detection needed 180 ms per KB at this size
MS_PER_KB = 40


def keys(n: int, distinct: int | None = None) -> str:
    return "version: 1\nevents: {}\nx:\n" + "".join(f"  k{i % (distinct or n)}: 1\n" for i in range(n))


def test_duplicate_key_detection_is_linear_in_the_number_of_keys():
    check_source("version: 1\nevents: {}\n", "warm.yaml")
    text = keys(40_000)
    start = time.perf_counter()
    diags = check_source(text, "keys.yaml").diagnostics
    elapsed = time.perf_counter() - start
    assert [d.code for d in diags] == ["E011"]  # `x` is an unknown top-level key; no duplicate among 40,000
    assert elapsed < 1 + MS_PER_KB * len(text) / 1024 / 1000, f"{elapsed:.1f} s for {len(text) // 1024} KB"


def test_duplicates_are_each_reported_against_the_first_occurrence():
    diags = check_source(keys(30, distinct=10), "dup.yaml").diagnostics
    dups = [d for d in diags if d.code == "E004"]
    assert len(dups) == 20
    assert dups[0].message == "duplicate key `k0`" and dups[0].notes == ("first given at line 4",)
    assert dups[-1].span.line == 33 and dups[-1].notes == ("first given at line 13",)


def test_a_duplicate_key_message_quotes_a_long_key_shortened():
    long_key = "k" * 5000
    text = f"version: 1\nevents: {{}}\nx:\n  ? {long_key}\n  : 1\n  ? {long_key}\n  : 2\n"  # explicit keys: no length limit
    d = next(d for d in check_source(text, "f").diagnostics if d.code == "E004")
    assert len(d.message) < 120 and "..." in d.message


def test_diagnostics_are_capped_per_file_with_a_count_of_the_rest():
    text = "version: 1\nevents: {}\nx: &a 1\ny: [" + ",".join(["*a"] * 1000) + "]\n"
    diags = check_source(text, "aliases.yaml").diagnostics
    codes = [d.code for d in diags]
    assert len(codes) == MAX_DIAGNOSTICS_PER_FILE + 1 and codes.count(CAP_CODE) == 1
    note = next(d for d in diags if d.code == CAP_CODE)
    # 1 anchor + 1000 aliases + the unknown keys x and y = 1003 diagnostics, 200 shown
    assert note.severity is Severity.NOTE
    assert note.message.startswith("803 more diagnostics not shown (803 errors)")
    assert note.span.line == 4 and diags[-1] is note  # where the first one left out is


def test_the_cap_keeps_errors_before_warnings_so_the_exit_status_holds():
    sp = Span("f.yaml", 1, 1)
    warnings = [Diagnostic("W410", Severity.WARNING, f"w{i}", Span("f.yaml", i + 1, 1)) for i in range(300)]
    error = Diagnostic("E203", Severity.ERROR, "late error", Span("f.yaml", 999, 1))
    other_file = Diagnostic("E203", Severity.ERROR, "other", Span("g.yaml", 1, 1))
    out = cap_per_file(warnings + [error, other_file], limit=50)
    assert error in out and other_file in out
    assert sum(1 for d in out if d.span.file == "f.yaml" and d.code != CAP_CODE) == 50
    cap = next(d for d in out if d.code == CAP_CODE)
    assert cap.message.startswith("251 more diagnostics not shown (251 warnings)") and cap.span == Span("f.yaml", 50, 1)
    assert cap_per_file([error], limit=1) == [error] and sp  # nothing to cap: the list itself


def test_a_long_source_line_is_shown_around_the_caret_only():
    prefix = "x" * 50_000
    text = f"version: 1\nevents: {{}}\nx: {{a: {prefix}, bad: &a 1}}\n"
    result = check_source(text, "long.yaml")
    anchor = next(d for d in result.diagnostics if d.code == "E002")
    out = render_text(anchor, result.sources)
    assert len(out) < 1000
    source_line, caret_line = [ln for ln in out.splitlines() if ln.startswith("3 |") or ln.startswith("  |")][-2:]
    col = caret_line.index("^")
    assert source_line[col:col + 2] == "&a" and source_line.startswith("3 | ...x") and source_line.endswith("1}")
    assert len(source_line) <= MAX_SHOWN_LINE + 20


@pytest.mark.parametrize("start,end", [(0, 3), (500, 510), (997, 1000), (10, 900)])
def test_window_keeps_the_span_in_view(start, end):
    line = "".join(chr(ord("a") + i % 26) for i in range(1000))
    shown, s, e = window(line, start, end, 120)
    assert len(shown) <= 126 and s < e
    assert shown[s:e].strip(".") in line[start:end]
    assert shown[s] == line[start]


def test_user_text_helpers():
    assert shorten("abc") == "abc" and len(shorten("x" * 1000, 60)) <= 60
    assert escape_surrogates("a\ud800b\udfffc") == "a\\ud800b\\udfffc"
    assert escape_surrogates("😀 é") == "😀 é"


# --- surrogates: no traceback anywhere, and check and run agree ---------------------------------

SURROGATE_MAPPING = """version: 1
events:
  payment.succeeded:
    - track: Order Completed
      userId: data.customer.customer_id
      when: type == "\\ud800"
"""


def test_a_lone_surrogate_escape_is_a_located_error(tmp_path):
    diags = check_source(SURROGATE_MAPPING, "s.yaml").diagnostics
    assert [(d.code, d.span.line, d.span.col, d.span.end_col) for d in diags] == [("E101", 6, 22, 28)]
    assert "surrogate" in diags[0].message


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_check_and_run_refuse_it_alike_without_a_traceback(tmp_path, fmt):
    path = tmp_path / "s.yaml"
    path.write_text(SURROGATE_MAPPING, encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "segmap.cli.main", "check", "--format", fmt, str(path)],
                           capture_output=True, text=True, encoding="utf-8", errors="strict")
    assert check.returncode == 1 and "Traceback" not in check.stderr
    assert "\\ud800" in check.stdout + check.stderr
    run = subprocess.run([sys.executable, "-m", "segmap.cli.main", "run", str(path)], input="", capture_output=True,
                         text=True, encoding="utf-8")
    assert run.returncode == 1 and "Traceback" not in run.stderr and "E101" in run.stderr


def test_renderers_escape_surrogates_in_any_user_text():
    d = Diagnostic("E206", Severity.ERROR, "unknown name `a\ud800`", Span("f\udc00.yaml", 1, 1),
                   notes=("n\ud800",), suggestion="s\ud800", hint="h\ud800")
    sources = SourceMap({"f\udc00.yaml": "a\ud800 b\n"})
    for out in (render_text(d, sources), render_json([d]), render_github(d)):
        out.encode("utf-8")  # strict: no UnicodeEncodeError
        assert "\\ud800" in out
    assert json.loads(render_json([d]))["diagnostics"][0]["message"] == "unknown name `a\ud800`"


def test_check_source_refuses_text_holding_a_raw_surrogate():
    diags = check_source("version: 1\nevents: {}\n# \ud800\n", "raw.yaml").diagnostics
    assert [(d.code, d.span.line, d.span.col) for d in diags] == [("E001", 3, 3)]


@pytest.mark.parametrize("parser", ["libyaml", "pure-python"])
def test_a_surrogate_escape_in_a_yaml_scalar_is_refused_by_either_parser(monkeypatch, parser):
    import yaml

    from segmap.dsl import yaml_source

    if parser == "pure-python":
        monkeypatch.setattr(yaml_source, "_Loader", yaml.SafeLoader)
    text = 'version: 1\nevents:\n  payment.succeeded:\n    - track: "a\\ud800"\n      userId: data.customer.customer_id\n'
    diags = check_source(text, "s.yaml").diagnostics
    assert [(d.code, d.span.line) for d in diags] == [("E001", 4)]


def test_the_summary_counts_what_the_cap_left_out(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("version: 1\nevents: {}\nx: &a 1\ny: [" + ",".join(["*a"] * 400) + "]\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "segmap.cli.main", "check", str(path)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "failed: 200 errors, 203 more not shown in 1 file" in out.stdout + out.stderr


@pytest.mark.parametrize("opener", ["[", "{a: ", "[{a: "])
def test_deep_flow_nesting_past_libyamls_own_limit_is_reported_quickly(opener):
    """libyaml stops at 1,000 levels and the pure-Python re-read was quadratic (2,000 `[` took seconds)."""
    check_source("version: 1\nevents: {}\n", "warm.yaml")
    shallow = check_source("version: 1\nevents: {}\nx: " + opener * 100 + "1\n", "f.yaml").diagnostics
    text = "version: 1\nevents: {}\nx: " + opener * 8000 + "1\n"
    start = time.perf_counter()
    deep = check_source(text, "f.yaml").diagnostics
    elapsed = time.perf_counter() - start
    assert [(d.code, d.span.line, d.span.col) for d in deep] == [(d.code, d.span.line, d.span.col) for d in shallow]
    assert deep[0].code == "E005"
    assert elapsed < 1 + MS_PER_KB * len(text) / 1024 / 1000, f"{elapsed:.2f} s"
