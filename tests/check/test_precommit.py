"""The pre-commit hook definition other repositories use."""
from pathlib import Path

import pytest
import yaml

from tests.support.mappings import STARTER

ROOT = Path(__file__).resolve().parents[2]


def test_hooks_run_segmap_check_on_yaml_files():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"segmap-check", "segmap-check-strict"}
    for h in hooks:
        assert h["language"] == "python" and h["entry"].startswith("segmap check")
        assert h["types"] == ["yaml"] and h["pass_filenames"] is True
        for key in ("name", "description", "files"):
            assert h[key]
    assert "--strict" in by_id["segmap-check-strict"]["entry"].split()
    import re

    pattern = re.compile(by_id["segmap-check"]["files"])
    assert pattern.search("segmap.yaml") and pattern.search("config/segmap.prod.yml")
    assert not pattern.search("docker-compose.yaml")


def test_the_entry_point_exists():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'segmap = "segmap.cli.main:main"' in text


# --- the hooks run for real by pre-commit, in a scratch git repository ---

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

WORKFLOW = """\
name: segmap
on:
  push:
    branches: [main]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: segmap check mappings/segmap.shop.yaml --format github
"""
GOOD_MAPPING = STARTER
BROKEN_MAPPING = GOOD_MAPPING.replace("data.customer.customer_id", "data.customer.customer_idd", 1)


def _local_config() -> str:
    """The shipped hook definitions, verbatim except that they run the segmap of this test
    environment (`language: system`) instead of installing it from a remote repository."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    exe = str(Path(sys.executable).parent / "segmap")
    for h in hooks:
        h["language"] = "system"
        h["entry"] = exe + h["entry"][len("segmap"):]
        h.pop("minimum_pre_commit_version", None)
    hooks[1]["stages"] = ["manual"]  # the strict hook is run on request only in this test
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}, sort_keys=False)


def _run(args, cwd, **kw):
    env = {**os.environ, "PRE_COMMIT_HOME": str(cwd / ".pre-commit-home"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, env=env, **kw)


def _pre_commit() -> str:
    exe = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")
    if exe is None:
        pytest.fail("pre-commit is a dev dependency: pip install -e '.[dev]'")
    return exe


def _scratch_repo(tmp_path: Path, mapping: str) -> Path:
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "mappings").mkdir()
    (repo / ".github" / "workflows" / "segmap.yml").write_text(WORKFLOW)
    (repo / "mappings" / "segmap.shop.yaml").write_text(mapping)
    (repo / "segmap-compose.yml").write_text("services:\n  segmap:\n    image: segmap:latest\n")
    (repo / ".pre-commit-config.yaml").write_text(_local_config())
    assert _run(["git", "init", "-q", "-b", "main"], repo).returncode == 0
    return repo


def test_pre_commit_checks_the_mapping_and_skips_a_workflow_named_after_segmap(tmp_path):
    pc = _pre_commit()
    repo = _scratch_repo(tmp_path, GOOD_MAPPING)
    assert _run([pc, "install"], repo).returncode == 0
    assert _run(["git", "add", "-A"], repo).returncode == 0
    r = _run(["git", "commit", "-q", "-m", "mapping and workflow"], repo)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "segmap check" in out and "Passed" in out


def test_pre_commit_blocks_a_broken_mapping_and_names_only_it(tmp_path):
    pc = _pre_commit()
    repo = _scratch_repo(tmp_path, BROKEN_MAPPING)
    assert _run(["git", "add", "-A"], repo).returncode == 0
    r = _run([pc, "run", "--all-files", "--verbose"], repo)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "mappings/segmap.shop.yaml:" in out and "customer_idd" in out
    assert "--> .github/workflows/segmap.yml" not in out and "--> segmap-compose.yml" not in out
    assert "skipped .github/workflows/segmap.yml: not a mapping file" in out
    assert "skipped segmap-compose.yml: not a mapping file" in out
    # the strict hook, run on request, sees the same files
    r = _run([pc, "run", "segmap-check-strict", "--all-files", "--hook-stage", "manual"], repo)
    assert r.returncode == 1 and "--> .github/workflows/segmap.yml" not in r.stdout + r.stderr


def test_a_mapping_with_a_typo_in_one_top_level_key_is_still_checked():
    from segmap.cli.cmd_check import looks_like_mapping

    assert looks_like_mapping("version: 1\nevent:\n  payment.succeeded: []\n")
    assert looks_like_mapping("# comment\nevents:\n  payment.succeeded: []\n")
    assert not looks_like_mapping(WORKFLOW)
    assert not looks_like_mapping("services:\n  web:\n    environment:\n      version: 2\n")
