"""A real LSP client (pygls's LanguageClient) talking to `segmap lsp` in a subprocess over stdio.

The editor's side of the conversation: initialize, open and edit documents,
wait for the diagnostics the server publishes, ask for completion, hover and
code actions. Each test gets its own server process.
"""
from __future__ import annotations

import asyncio
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

TIMEOUT = 30


class Editor:
    """One LanguageClient and the diagnostics it received, by URI."""

    def __init__(self, client: LanguageClient):
        self.client = client
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.versions: dict[str, int] = {}
        self._changed = asyncio.Event()
        self.texts: dict[str, str] = {}

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(params: lsp.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            if params.version is not None:
                self.versions[params.uri] = params.version
            self._changed.set()

    async def _wait_for(self, uri: str, version: int) -> list[lsp.Diagnostic]:
        async def until() -> None:
            while self.versions.get(uri) != version:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(until(), TIMEOUT)
        return self.diagnostics[uri]

    async def open(self, path: Path, text: str) -> tuple[str, list[lsp.Diagnostic]]:
        uri = path.as_uri()
        self.texts[uri] = text
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
        return uri, await self._wait_for(uri, 1)

    async def replace(self, uri: str, old: str, new: str) -> list[lsp.Diagnostic]:
        """An incremental edit replacing the first ``old`` (on one line) with ``new``."""
        text = self.texts[uri]
        at = text.index(old)
        line = text.count("\n", 0, at)
        col = at - (text.rfind("\n", 0, at) + 1)
        version = self.versions.get(uri, 1) + 1
        rng = lsp.Range(lsp.Position(line, col), lsp.Position(line, col + len(old)))
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [lsp.TextDocumentContentChangePartial(range=rng, text=new)]))
        self.texts[uri] = text[:at] + new + text[at + len(old):]
        return await self._wait_for(uri, version)

    @staticmethod
    def position(text: str, marker: str, offset: int | None = None) -> lsp.Position:
        """The position just after ``marker`` (or ``offset`` characters into it)."""
        at = text.index(marker) + (len(marker) if offset is None else offset)
        line = text.count("\n", 0, at)
        return lsp.Position(line, at - (text.rfind("\n", 0, at) + 1))

    async def complete(self, uri: str, marker: str, offset: int | None = None) -> dict[str, lsp.CompletionItem]:
        pos = self.position(self.texts[uri], marker, offset)
        result = await asyncio.wait_for(self.client.text_document_completion_async(
            lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), pos)), TIMEOUT)
        items = result.items if isinstance(result, lsp.CompletionList) else (result or [])
        return {i.label: i for i in items}

    async def hover(self, uri: str, marker: str, offset: int) -> lsp.Hover | None:
        pos = self.position(self.texts[uri], marker, offset)
        return await asyncio.wait_for(self.client.text_document_hover_async(
            lsp.HoverParams(lsp.TextDocumentIdentifier(uri), pos)), TIMEOUT)

    async def code_actions(self, uri: str, diagnostic: lsp.Diagnostic) -> list[lsp.CodeAction]:
        result = await asyncio.wait_for(self.client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), diagnostic.range, lsp.CodeActionContext(diagnostics=[diagnostic]))),
            TIMEOUT)
        return [a for a in result or [] if isinstance(a, lsp.CodeAction)]


@asynccontextmanager
async def editor(cwd: Path):
    client = LanguageClient("segmap-tests", "1")
    await client.start_io(sys.executable, "-m", "segmap", "lsp", cwd=str(cwd))
    ed = Editor(client)
    try:
        result = await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), process_id=None, root_uri=cwd.as_uri())), TIMEOUT)
        ed.capabilities = result.capabilities
        client.initialized(lsp.InitializedParams())
        yield ed
    finally:
        try:
            await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
            client.exit(None)
        finally:
            await asyncio.wait_for(client.stop(), TIMEOUT)


def run(scenario) -> None:
    """Run ``async scenario()`` to completion (the tests are plain pytest functions)."""
    asyncio.run(scenario())
