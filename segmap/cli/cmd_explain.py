"""`segmap explain CODE`: what a diagnostic code means, why, and an example."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="explain a diagnostic code (E203, W430 ...) with an example",
        description="Print the documentation and an example of a diagnostic code, or list every code. "
        "Exit status: 0 found, 2 unknown code.",
    )
    p.add_argument("code", nargs="?", metavar="CODE", help="a code such as E203 (case does not matter)")
    p.add_argument("--list", action="store_true", help="list every code with its title")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    p.set_defaults(handler=run)


def _normalise(code: str) -> str:
    code = code.strip().upper()
    if code.isdigit():  # `segmap explain 203`
        code = "E" + code.zfill(3)
    return code


def run(args: argparse.Namespace) -> int:
    from segmap.diagnostics.codes import CODES

    if args.list or not args.code:
        if not args.list:
            print("segmap explain: give a CODE, or --list to see them all", file=sys.stderr)
            return 2
        if args.format == "json":
            import json

            print(json.dumps([_as_json(i) for i in CODES.values()], indent=2, ensure_ascii=False))
        else:
            for entry in sorted(CODES.values(), key=lambda i: (i.code[1:], i.code)):
                print(f"{entry.code}  {entry.severity.value:<7}  {entry.title}")
        return 0
    code = _normalise(args.code)
    info = CODES.get(code)
    if info is None:
        import difflib

        near = difflib.get_close_matches(code, list(CODES), n=3, cutoff=0.5)
        other = ("W" if code.startswith("E") else "E") + code[1:]
        if other in CODES and other not in near:
            near.insert(0, other)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        print(f"segmap explain: unknown code `{args.code}`{hint} (`segmap explain --list` shows every code)",
              file=sys.stderr)
        return 2
    if args.format == "json":
        import json

        print(json.dumps(_as_json(info), indent=2, ensure_ascii=False))
        return 0
    from segmap.colour import use_colour

    colour = use_colour("auto", sys.stdout)
    bold = (lambda s: f"\x1b[1m{s}\x1b[0m") if colour else (lambda s: s)
    print(bold(f"{info.code} ({info.severity.value}): {info.title}"))
    print()
    print(info.explanation)
    print()
    print("Example:")
    print()
    for line in info.example.splitlines():
        print(f"    {line}")
    return 0


def _as_json(info) -> dict:
    return {"code": info.code, "severity": info.severity.value, "title": info.title,
            "explanation": info.explanation, "example": info.example}
