from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import require_tool
from tests.js.bridge import JsRunner


@pytest.fixture(scope="session")
def js() -> Iterator[JsRunner]:
    """One node process for every differential test of the session."""
    require_tool("node")
    runner = JsRunner()
    yield runner
    runner.close()
