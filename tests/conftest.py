import shutil
import textwrap

import pytest

import segmap


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def compile_text():
    def _compile(text: str, filename: str = "m.yaml"):
        return segmap.compile_source(dedent(text), filename)

    return _compile


@pytest.fixture
def check_text():
    from segmap.compiler.api import check_source

    def _check(text: str, filename: str = "m.yaml"):
        return check_source(dedent(text), filename).diagnostics

    return _check


@pytest.fixture(scope="session")
def node():
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed")
    return path
