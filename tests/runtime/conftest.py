from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import require_tool
from tests.runtime.bridge import NodeRuntime


@pytest.fixture(scope="session")
def node() -> Iterator[NodeRuntime]:
    require_tool("node")
    rt = NodeRuntime()
    yield rt
    rt.close()
