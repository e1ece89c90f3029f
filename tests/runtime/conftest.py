from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.runtime.bridge import NodeRuntime


@pytest.fixture(scope="session")
def node() -> Iterator[NodeRuntime]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the JavaScript twins cannot be tested")
    rt = NodeRuntime()
    yield rt
    rt.close()
