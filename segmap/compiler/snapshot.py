"""Load the shipped schema snapshot of Dodo's webhook models.

The checker and the sample generator need every event's nested type on each
run, but must not import the Dodo SDK (slow, and only a dev dependency). The
snapshot is produced ahead of time by ``segmap.compiler.snapshot_gen`` and read
here with the stdlib only; the format is documented in that module.
"""
from __future__ import annotations

import functools
import json
from importlib import resources

_RESOURCE = ("segmap.data", "dodo_events.json")


@functools.cache
def load_snapshot() -> dict:
    """The parsed snapshot; cached, so callers must treat it as read-only."""
    package, name = _RESOURCE
    with resources.files(package).joinpath(name).open("rb") as fh:
        return json.load(fh)


def event_types() -> list[str]:
    """Every webhook event type the snapshot knows, sorted."""
    return sorted(load_snapshot()["events"])
