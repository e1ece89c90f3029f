from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.js.bridge import JsRunner


@pytest.fixture(scope="session")
def js() -> Iterator[JsRunner]:
    """One node process for every differential test of the session."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the exported handlers cannot be run")
    runner = JsRunner()
    yield runner
    runner.close()
