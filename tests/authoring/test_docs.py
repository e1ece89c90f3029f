"""docs/authoring.md shows real output: re-run its commands and compare."""
import re
import shlex

import pytest

from .conftest import ROOT

DOC = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")


def _shop_yaml() -> str:
    return re.search(r"```yaml\n(version: 1\n.*?)```", DOC, re.S).group(1)


def _console_blocks():
    for block in re.findall(r"```console\n(.*?)```", DOC, re.S):
        lines = block.splitlines()
        commands = [line for line in lines if line.startswith("$ ")]
        if len(commands) != 1 or "payment_metod" in block or "    ..." in lines:
            continue  # an earlier version of the file, or shortened output
        yield commands[0][2:], "\n".join(lines[1:]) + "\n"


BLOCKS = list(_console_blocks())


def test_the_doc_has_verifiable_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("command, expected", BLOCKS, ids=[c for c, _ in BLOCKS])
def test_documented_output_is_real(command, expected, cli, tmp_path, monkeypatch):
    (tmp_path / "shop.yaml").write_text(_shop_yaml(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    argv = shlex.split(command)
    assert argv[0] == "segmap"
    _, out, _ = cli(*argv[1:])
    assert out == expected
