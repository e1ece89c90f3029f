"""Every mapping benchmark in one command, printing one table of ratios measured in the same run.

    python bench/run_all.py [--quick] [--json results.json] [--delivery] [other bench_mapping options]

It installs what the comparisons need if they are missing (glom, jsonata-python, jmespath and
msgspec from PyPI; `npm install` in bench/js should that package ever get dependencies; it has
none today), caches bytecode for the cold-start rows, then runs bench/bench_mapping.py.
``--delivery`` also runs bench/bench_delivery.py (the outbox's throughput) afterwards.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXTRAS = {"glom": "glom", "jsonata": "jsonata-python", "jmespath": "jmespath", "msgspec": "msgspec"}


def ensure_python_extras() -> None:
    missing = [pkg for module, pkg in EXTRAS.items() if importlib.util.find_spec(module) is None]
    if missing:
        print(f"installing {', '.join(missing)} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)


def ensure_node_packages() -> None:
    js = HERE / "js"
    deps = json.loads((js / "package.json").read_text(encoding="utf-8")).get("dependencies")
    npm = shutil.which("npm")
    if deps and npm and not (js / "node_modules").exists():
        subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=js, check=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    delivery = "--delivery" in argv
    if delivery:
        argv.remove("--delivery")
    ensure_python_extras()
    ensure_node_packages()
    sys.path.insert(0, str(HERE))
    import bench_mapping

    code = bench_mapping.main(argv)
    if delivery and code == 0:
        print("\n## Delivery (bench/bench_delivery.py)\n", flush=True)
        code = subprocess.run([sys.executable, str(HERE / "bench_delivery.py")]).returncode
    return code


if __name__ == "__main__":
    sys.exit(main())
