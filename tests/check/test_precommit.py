"""The pre-commit hook definition other repositories use."""
from pathlib import Path

import yaml

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
    assert by_id["segmap-check-strict"]["entry"].endswith("--strict")
    import re

    pattern = re.compile(by_id["segmap-check"]["files"])
    assert pattern.search("segmap.yaml") and pattern.search("config/segmap.prod.yml")
    assert not pattern.search("docker-compose.yaml")


def test_the_entry_point_exists():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'segmap = "segmap.cli.main:main"' in text
