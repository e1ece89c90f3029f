"""The import rule of README's Design section, enforced.

Each stage imports only itself and the stages below it (lazy imports inside
functions included: they may defer a cost, never turn the rule around); no
module import cycle exists; no module imports another module's private
(``_name``) definition. Read from the source with ``ast``, nothing is run.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "segmap"

#: Lowest first. A module belongs to the first stage with a prefix matching its name ("segmap" alone is
#: the package's own __init__, the public API). Keep README's Design section in step with this list.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("leaves", ("segmap._version", "segmap.errors", "segmap.record", "segmap.diagnostics", "segmap.colour")),
    ("grammar", ("segmap.grammar",)),
    ("dsl", ("segmap.dsl",)),
    ("runtime", ("segmap.runtime",)),
    ("compiler", ("segmap.compiler", "segmap.data")),
    ("api", ("segmap", "segmap.samples", "segmap.testing")),
    ("delivery", ("segmap.delivery",)),
    ("tools", ("segmap.authoring", "segmap.backfill", "segmap.lsp")),
    ("service", ("segmap.service", "segmap.settings")),
    ("cli", ("segmap.cli", "segmap.__main__")),
]


def module_files() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = module_files()


def stage_of(module: str) -> int:
    for level, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            if module == prefix or (prefix != "segmap" and module.startswith(prefix + ".")):
                return level
    raise AssertionError(f"{module} belongs to no stage: add it to STAGES in {__file__} and to README's Design section")


def resolve(name: str) -> str | None:
    """The segmap module a dotted name lives in (``segmap.compiler.checker.Checker`` -> ``segmap.compiler.checker``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import of a segmap module in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = resolve(alias.name) if alias.name.startswith("segmap") else None
                if target:
                    found.append((target, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            if not base.startswith("segmap"):
                continue
            for alias in node.names:
                sub = resolve(f"{base}.{alias.name}")
                if sub is not None and sub == f"{base}.{alias.name}":
                    found.append((sub, "", node.lineno))  # a module: `from segmap.compiler import checker`
                else:
                    target = resolve(base)
                    if target:
                        found.append((target, alias.name, node.lineno))
    return found


def test_every_module_has_a_stage():
    for module in MODULES:
        stage_of(module)


def test_each_stage_imports_only_itself_and_the_stages_below():
    wrong = []
    for module in MODULES:
        own = stage_of(module)
        for target, _, line in imports(module):
            if stage_of(target) > own:
                wrong.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line}: {module} "
                             f"({STAGES[own][0]}) imports {target} ({STAGES[stage_of(target)][0]})")
    assert not wrong, "imports against the stage order:\n" + "\n".join(wrong)


def test_no_import_cycle_between_modules():
    graph: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        for target, _, _ in imports(module):
            if target != module and not module.startswith(target + "."):  # a package's own __init__ is no cycle
                graph[module].add(target)
    # iterative depth-first search for a back edge
    state: dict[str, int] = {}
    for start in MODULES:
        if start in state:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                cycle = path[path.index(child):] + [child]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if child not in state:
                state[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)


def test_no_module_imports_a_private_name_of_another():
    private = []
    for module in MODULES:
        for target, name, line in imports(module):
            if target != module and name.startswith("_") and not name.startswith("__"):
                private.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line}: {name} from {target}")
    assert not private, "private names imported across modules (make them public or move them):\n" + "\n".join(private)
