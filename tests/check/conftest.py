import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_segmap(*args, input=None, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "segmap", *args], input=input, capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=120, env=env)


@pytest.fixture
def segmap_cli():
    return run_segmap
