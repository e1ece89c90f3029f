"""Load the shipped schema snapshot of Dodo's webhook models.

The checker and the sample generator need every event's nested type on each
run, but must not import the Dodo SDK (slow, and only a dev dependency). The
snapshot is produced ahead of time by ``segmap.compiler.snapshot_gen`` and read
here with the stdlib only; the format is documented in that module.
"""
from __future__ import annotations

import functools
import json
import os
from typing import Any

# a plain file next to the package (importlib.resources would cost a cold `segmap check` several
# milliseconds of imports: tempfile, shutil, zipfile readers; segmap is never installed zipped)
_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "dodo_events.json")


@functools.cache
def load_snapshot() -> dict[str, Any]:
    """The parsed snapshot; cached, so callers must treat it as read-only."""
    with open(_PATH, "rb") as fh:
        snapshot: dict[str, Any] = json.load(fh)
        return snapshot


def event_types() -> list[str]:
    """Every webhook event type the snapshot knows, sorted."""
    return sorted(load_snapshot()["events"])
