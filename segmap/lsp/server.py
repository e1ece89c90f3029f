"""`segmap lsp`: the language server, over stdio, built on pygls.

pygls does the protocol (JSON-RPC framing, the initialize handshake, text
synchronisation with incremental edits, cancellation); this module only
maps LSP requests to the features in segmap/lsp/features.py, which are
plain functions of the document text. Diagnostics are `segmap check`'s own
(the same check_source, acknowledgements included), published on open and
on every change.
"""
from __future__ import annotations

import time
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from segmap._version import __version__
from segmap.lsp import features

TRIGGER_CHARACTERS = [".", "(", " ", "[", ":"]


def _filename(uri: str) -> str:
    """The file name diagnostics carry: the path of a file: URI, else the URI."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


class SegmapLanguageServer(LanguageServer):
    """Keeps, per open document, the time its last check took (for the benchmark)."""

    def __init__(self) -> None:
        super().__init__("segmap", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.check_ms: dict[str, tuple[float, float]] = {}  # uri -> (wall, CPU) of its last check

    def publish(self, uri: str) -> None:
        from segmap.compiler.api import check_source

        doc = self.workspace.get_text_document(uri)
        text = doc.source
        start, cpu = time.perf_counter(), time.process_time()
        try:
            diags = check_source(text.lstrip("\ufeff"), _filename(uri)).diagnostics
        except Exception as exc:  # noqa: BLE001 - a checker bug must not kill the editor's server
            self.window_log_message(lsp.LogMessageParams(lsp.MessageType.Error, f"segmap check failed: {exc!r}"))
            return
        self.check_ms[uri] = ((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=doc.version, diagnostics=features.to_lsp_diagnostics(text, diags)))


def make_server() -> SegmapLanguageServer:
    server = SegmapLanguageServer()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SegmapLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SegmapLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SegmapLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SegmapLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.check_ms.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS))
    def completion(ls: SegmapLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        return features.completion(doc.source, params.position.line, params.position.character)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: SegmapLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        return features.hover(doc.source, params.position.line, params.position.character)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_action(ls: SegmapLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        ours = [d for d in params.context.diagnostics if d.source == features.SOURCE]
        return features.code_actions(params.text_document.uri, doc.source, ours)

    @server.command("segmap.lastCheckMilliseconds")
    def last_check_ms(ls: SegmapLanguageServer, uri: str) -> list[float] | None:
        """[wall, CPU] milliseconds of the last check of a document inside the server (bench/bench_lsp.py)."""
        found = ls.check_ms.get(uri)
        return list(found) if found else None

    return server


def serve_stdio() -> None:
    make_server().start_io()


__all__ = ["SegmapLanguageServer", "make_server", "serve_stdio"]
