"""The locked test environment: the lock covers pyproject.toml, the commands agree, and the
environment under test is the locked one.

A helper that adds a dependency to pyproject.toml without running tools/lock.sh fails here,
instead of pip quietly installing whatever release is newest that day.
"""
from __future__ import annotations

import os
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"


def _pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def _lock() -> dict[str, Requirement]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            pins[canonicalize_name(req.name)] = req
    return pins


def _pinned_version(req: Requirement) -> str:
    (spec,) = req.specifier
    return spec.version


def test_every_lock_line_is_an_exact_pin():
    for name, req in _lock().items():
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{name} is not pinned exactly in {LOCK.name}"


def test_lock_covers_every_dependency_of_pyproject_within_its_range():
    pins = _lock()
    stale = []
    for req in _pyproject_requirements():
        pin = pins.get(canonicalize_name(req.name))
        if pin is None or not req.specifier.contains(_pinned_version(pin), prereleases=True):
            stale.append(str(req))
    assert not stale, f"requirements/lock.txt is stale for {stale}: run tools/lock.sh"


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Set up and run", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_ci_runs_the_readme_test_command_verbatim():
    main_job, tests = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci
    assert "requirements/lock.txt" in tests and "requirements/lock.txt" in main_job
    # docs/serve.md repeats the main job; it must be the same line
    assert main_job in (ROOT / "docs" / "serve.md").read_text()


@pytest.mark.skipif(os.environ.get("SEGMAP_UNLOCKED") == "1",
                    reason="tools/test-newest.sh runs against the newest releases, not the lock")
def test_the_environment_under_test_is_the_locked_one():
    """Outside tools/test-newest.sh, every locked package that is installed has the locked version."""
    wrong = []
    for name, req in _lock().items():
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # an extra's package the test command does not install (a missing dev package fails its import)
        if have != _pinned_version(req):
            wrong.append(f"{name} {have} != {_pinned_version(req)}")
    assert not wrong, ("installed versions differ from requirements/lock.txt: " + ", ".join(wrong)
                       + " — install with README's test command")


def test_github_workflows_run_the_locked_and_the_newest_suites():
    import yaml

    wf = ROOT / ".github" / "workflows"
    locked = yaml.safe_load((wf / "tests.yml").read_text())
    newest = yaml.safe_load((wf / "newest.yml").read_text())
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on"
    assert "push" in locked[True] and "schedule" in newest[True]
    for doc, command in ((locked, "bash .ci/run"), (newest, "tools/test-newest.sh")):
        (job,) = doc["jobs"].values()
        runs = [step.get("run") for step in job["steps"]]
        nodes = [step["with"]["node-version"] for step in job["steps"] if "setup-node" in step.get("uses", "")]
        assert command in runs and nodes == ["20"]
        assert job["services"]["postgres"]["image"] == "postgres:15" and job["env"]["CI"] == "true"


def test_pytest_config_fails_hangs_and_unknown_markers():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert 0 < int(config["timeout"]) <= 600
    assert "--strict-markers" in config["addopts"].split()
    declared = {m.split(":", 1)[0].strip() for m in config.get("markers", [])}
    used = set()
    for path in (ROOT / "tests").rglob("*.py"):
        used |= set(re.findall(r"pytest\.mark\.([a-z_]+)", path.read_text(encoding="utf-8")))
    assert declared <= used, f"declared but unused markers: {sorted(declared - used)}"
