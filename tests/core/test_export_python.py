"""`segmap export python`: the generated module as a file that imports only segmap.runtime.

It is imported in a fresh interpreter (as a user's FastAPI or Django endpoint
would import it), run on envelopes, and compared with the in-process
compiled mapping: same bytes, same located failures, and neither the
compiler nor Lark ever imported.
"""
from __future__ import annotations

import json
import subprocess
import sys

import segmap
from segmap.cli.cmd_init import starter_text
from segmap.cli.main import main
from segmap.samples import sample_envelope

PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import mapping_module as m
out = []
for line in sys.stdin:
    try:
        out.append({"ok": m.apply_json_bytes(line.encode()).decode()})
    except Exception as exc:
        out.append({"err": type(exc).__name__, "location": getattr(exc, "location", None)})
loaded = sorted(k for k in sys.modules if k.startswith("segmap.compiler") or k.split(".")[0] in ("lark", "yaml"))
print(json.dumps({"results": out, "loaded": loaded, "line_map": bool(m.LINE_MAP), "file": m.FILE}))
"""


def _envelopes() -> list[dict]:
    envs = [sample_envelope(t, variant=v) for t in ("payment.succeeded", "subscription.active",
                                                     "subscription.cancelled", "refund.succeeded")
            for v in range(3)]
    broken = sample_envelope("payment.succeeded")
    broken["data"]["total_amount"] = "a lot"  # fails at the amount's expression
    nameless = sample_envelope("subscription.active")
    del nameless["data"]["customer"]  # the general path: still located
    return envs + [broken, nameless]


def test_exported_module_runs_without_the_compiler(tmp_path, capsys):
    mapping = tmp_path / "segmap.yaml"
    mapping.write_text(starter_text(), encoding="utf-8")
    out = tmp_path / "mapping_module.py"
    assert main(["export", "python", str(mapping), "-o", str(out)]) == 0
    assert "imports only segmap.runtime" in capsys.readouterr().err
    source = out.read_text(encoding="ascii")
    assert "LINE_MAP = " in source and "ORIGINS" not in source
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("from ", "import "))}
    assert imports <= {"segmap.runtime.values", "segmap.runtime", "segmap.runtime.calls", "segmap.runtime.jsjson",
                       "segmap.runtime.currency",
                       "segmap.runtime.entry", "builtins"}, imports

    envs = _envelopes()
    lines = "\n".join(json.dumps(e) for e in envs) + "\n"
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], input=lines, capture_output=True, text=True,
                          check=True, timeout=60)
    report = json.loads(proc.stdout)
    assert report["loaded"] == [], f"the exported module imported {report['loaded']}"
    assert report["line_map"] and report["file"] == str(mapping)

    compiled = segmap.compile_file(mapping)
    for env, got in zip(envs, report["results"], strict=True):
        try:
            want = {"ok": compiled.apply_json_bytes(json.dumps(env).encode()).decode()}
        except segmap.MappingRuntimeError as exc:
            want = {"err": "MappingRuntimeError", "location": exc.location}
        assert got == want, env["type"]
    assert sum("err" in r for r in report["results"]) == 2
    assert all(r["location"].startswith(str(mapping) + ":") and r["location"] != str(mapping)
               for r in report["results"] if "err" in r)


def test_export_python_refuses_a_broken_mapping(tmp_path, capsys):
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.nope\n",
                       encoding="utf-8")
    assert main(["export", "python", str(mapping), "-o", str(tmp_path / "m.py")]) == 1
    assert not (tmp_path / "m.py").exists()
    assert "E203" in capsys.readouterr().err


def test_line_map_is_written_with_the_code():
    """Every line the map names holds code generated from that mapping position (no search afterwards)."""
    from segmap.runtime.entry import parse_line_map

    compiled = segmap.compile_source(starter_text(), "segmap.yaml")
    tail = compiled.source[compiled.source.index("\nFILE = ") + 1:]
    namespace: dict = {}
    exec(compile(tail.split("\n# apply(")[0], "<map>", "exec"), namespace)  # FILE and LINE_MAP only
    table = parse_line_map(namespace["LINE_MAP"])
    lines = compiled.source.split("\n")
    assert len(table) > 50
    for n, where in table.items():
        assert lines[n - 1].startswith("    ") and not lines[n - 1].lstrip().startswith("def "), (n, where)
