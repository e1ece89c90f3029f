"""Diagnostics as a SARIF 2.1.0 log, for code-scanning tools (GitHub code scanning and others).

One run, one result per diagnostic, one rule per code used (title and explanation
from the catalogue, so a code-scanning UI can show what the code means). Columns
are counted in Unicode code points, as segmap counts them, and the run says so
(`columnKind`), so that a viewer does not re-count in UTF-16 units. A file that could
not be read is a result like any other (code E000) and makes the invocation
unsuccessful. The tests validate the output against the official schema.
"""
from __future__ import annotations

import json
from typing import Any, Iterable
from urllib.parse import quote

from segmap.diagnostics.model import Diagnostic, Severity
from segmap.diagnostics.text import escape_surrogates

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def artifact_uri(path: str) -> str:
    """A relative URI reference for a path as given on the command line."""
    return quote(path.replace("\\", "/"), safe="/:@!$&'()*+,;=-._~")


def _message(d: Diagnostic) -> str:
    text = d.message
    if d.suggestion:
        text += f" (did you mean `{d.suggestion}`?)"
    for note in d.notes:
        text += f"\nnote: {note}"
    if d.hint:
        text += f"\nhint: {d.hint}"
    return text


def sarif_log(diags: Iterable[Diagnostic], *, unreadable: int = 0) -> dict[str, Any]:
    from segmap._version import __version__
    from segmap.diagnostics.codes import CODES

    diags = sorted(diags, key=Diagnostic.sort_key)
    rule_ids = sorted({d.code for d in diags})
    rules = []
    for code in rule_ids:
        info = CODES.get(code)
        rule: dict[str, Any] = {"id": code}
        if info is not None:
            rule["name"] = "".join(w.capitalize() for w in info.title.replace("`", "").split() if w.isalnum()) or code
            rule["shortDescription"] = {"text": info.title}
            rule["fullDescription"] = {"text": info.explanation}
            rule["defaultConfiguration"] = {"level": _LEVEL[info.severity]}
        rules.append(rule)
    index = {code: i for i, code in enumerate(rule_ids)}
    results = []
    artifacts: dict[str, int] = {}
    for d in diags:
        result: dict[str, Any] = {"ruleId": d.code, "ruleIndex": index[d.code], "level": _LEVEL[d.severity],
                        "message": {"text": _message(d)}}
        if d.span is not None:
            uri = artifact_uri(d.span.file)
            artifacts.setdefault(uri, len(artifacts))
            region = {"startLine": d.span.line, "startColumn": d.span.col,
                      "endLine": d.span.end_line, "endColumn": d.span.end_col}
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": uri, "index": artifacts[uri]}, "region": region}}]
        if d.suggestion and d.span is not None and d.span.end_line == d.span.line and "\n" not in d.suggestion:
            result["fixes"] = [{"description": {"text": f"replace with `{d.suggestion}`"}, "artifactChanges": [{
                "artifactLocation": {"uri": artifact_uri(d.span.file)},
                "replacements": [{"deletedRegion": result["locations"][0]["physicalLocation"]["region"],
                                  "insertedContent": {"text": d.suggestion}}]}]}]
        results.append(result)
    run = {
        "tool": {"driver": {"name": "segmap", "version": __version__, "semanticVersion": __version__,
                            "rules": rules}},
        "columnKind": "unicodeCodePoints",
        "artifacts": [{"location": {"uri": uri}} for uri in artifacts],
        "invocations": [{"executionSuccessful": unreadable == 0}],
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(diags: Iterable[Diagnostic], *, unreadable: int = 0) -> str:
    return escape_surrogates(json.dumps(sarif_log(diags, unreadable=unreadable), indent=2, ensure_ascii=False))
