"""The catalogue of broken mappings: one file per mistake, its diagnostics checked exactly.

Each file in catalogue/ starts with a comment saying what is wrong, then one
`# expect: CODE LINE:COL` line per diagnostic `segmap check` must report --
no more, no fewer, at exactly those positions (errors and warnings alike).
The t* files are the mistakes of the tsc anchor (docs/check.md), the others
cover every rule of the checker.
"""
import re
from pathlib import Path

import pytest

from segmap.compiler.api import check_source
from segmap.diagnostics.codes import CODES

CATALOGUE = Path(__file__).parent / "catalogue"
FILES = sorted(CATALOGUE.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: ([EWN]\d{3}) (\d+):(\d+)\s*$", re.M)

# Codes a broken *mapping file* cannot produce under `segmap check`:
# run-time failures and the `tests:` section checked by `segmap test`.
NOT_FROM_CHECK = {"E501", "E601", "E602", "E603", "E604"}
# E701 is reported by `segmap backfill` before it reads anything: tests/backfill/test_backfill.py
NOT_FROM_CHECK |= {"E701"}
# E000 is an input that cannot be read at all: tests/check/test_output_formats.py
NOT_FROM_CHECK |= {"E000"}
# N001 (the cap on diagnostics per file) needs 200 diagnostics: tests/check/test_bounded_cost.py
NOT_FROM_CHECK |= {"N001"}


def expectations(path: Path) -> list[tuple[str, int, int]]:
    return [(c, int(line), int(col)) for c, line, col in EXPECT.findall(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_mapping_reports_exactly_the_expected_diagnostics(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and not text.startswith("# expect:"), "start with a comment describing the mistake"
    expected = expectations(path)
    assert expected, "give at least one `# expect: CODE LINE:COL`"
    diags = check_source(text, path.name).diagnostics
    got = [(d.code, d.span.line, d.span.col) for d in diags]
    assert sorted(got) == sorted(expected), "\n".join(f"{d.code} {d.span}: {d.message}" for d in diags)
    for d in diags:  # every reported code is documented and its severity matches the catalogue
        assert d.code in CODES and CODES[d.code].severity == d.severity


def test_the_catalogue_is_large_and_covers_every_check():
    assert len(FILES) >= 40
    seen = {code for path in FILES for code, _, _ in expectations(path)}
    assert set(CODES) - NOT_FROM_CHECK <= seen, sorted(set(CODES) - NOT_FROM_CHECK - seen)


def test_the_tsc_anchor_mistakes_are_all_caught():
    # the 20 core mistakes of the tsc anchor (tsc-anchor.md), 20 being Svix's `cancel`
    # which the mapping language makes impossible (unmapped events are never forwarded)
    anchor = {int(m.group(1)) for p in FILES if (m := re.match(r"t(\d\d)", p.stem))}
    assert anchor >= set(range(1, 20))
