"""Mapping files that several test modules read, loaded once here."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: `segmap init`'s starter mapping: Dodo's three Segment examples, call for call.
STARTER_PATH = ROOT / "segmap" / "cli" / "starter.yaml"
STARTER = STARTER_PATH.read_text(encoding="utf-8")
