"""A cap on the diagnostics reported per file, with a count of the rest.

One mistake repeated 100,000 times (an alias in a generated file, a bad key
in a minified list) must not turn a 750 KB file into 100 MB of output: as
compilers do (clang's -ferror-limit, gcc's -fmax-errors), the first
diagnostics of each file are reported and one note counts the others.
Errors are kept before warnings, so the exit status never changes.
"""
from __future__ import annotations

from segmap.diagnostics.model import Diagnostic, Severity

MAX_DIAGNOSTICS_PER_FILE = 200
CAP_CODE = "N001"


def cap_per_file(diags: list[Diagnostic], limit: int = MAX_DIAGNOSTICS_PER_FILE) -> list[Diagnostic]:
    """At most ``limit`` diagnostics of each file (errors first), in position order, plus one
    N001 note per capped file counting the rest and pointing at the first one left out."""
    by_file: dict[str, list[Diagnostic]] = {}
    for d in diags:
        by_file.setdefault(d.span.file if d.span else "", []).append(d)
    if all(len(group) <= limit for group in by_file.values()):
        return diags
    out: list[Diagnostic] = []
    for group in by_file.values():
        if len(group) <= limit:
            out.extend(group)
            continue
        ranked = sorted(group, key=lambda d: (not d.is_error, d.sort_key()))
        kept, dropped = ranked[:limit], ranked[limit:]
        out.extend(kept)
        errors = sum(1 for d in dropped if d.is_error)
        others = len(dropped) - errors
        counts = ", ".join(part for part in (f"{errors} error{'s' * (errors != 1)}" if errors else "",
                                             f"{others} warning{'s' * (others != 1)}" if others else "") if part)
        first = min(dropped, key=Diagnostic.sort_key)
        out.append(Diagnostic(
            CAP_CODE, Severity.NOTE, f"{len(dropped)} more diagnostics not shown ({counts}): "
            f"only the first {limit} of a file are reported", first.span,
            notes=(f"the first one not shown is {first.code}: {first.message[:200]}",),
            hint="fix the ones shown (often one mistake repeated) and check again"))
    return sorted(out, key=Diagnostic.sort_key)


def hidden_count(d: Diagnostic) -> int:
    """How many diagnostics an N001 note stands for (0 for any other diagnostic)."""
    if d.code != CAP_CODE:
        return 0
    head = d.message.split(" ", 1)[0]
    return int(head) if head.isdigit() else 0
