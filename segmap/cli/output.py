"""Small output helpers shared by commands."""
from __future__ import annotations

import sys


def print_mapping_error(exc, prog: str) -> None:
    """Render a MappingError's diagnostics on stderr, the same way `segmap check` does."""
    from segmap.diagnostics.render import render_summary, write_diagnostics

    from segmap.colour import use_colour

    colour = use_colour("auto", sys.stderr)
    write_diagnostics(exc.diagnostics, exc.sources, "text", sys.stderr, colour)
    print(f"{prog}: the mapping has errors ({render_summary(exc.diagnostics)})", file=sys.stderr)
