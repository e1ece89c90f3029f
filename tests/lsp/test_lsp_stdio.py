"""`segmap lsp` in a subprocess, driven over stdio by a real LSP client (pygls's LanguageClient)."""
from __future__ import annotations

from tests.conftest import require_tool

require_tool("pygls")  # a dev dependency: under CI its absence fails the run

from lsprotocol import types as lsp  # noqa: E402

from tests.lsp.client import editor, run  # noqa: E402

MAPPING = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        order_id: data.payment_id
        email: data.customer.email
"""


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.split("\n")

    def offset(p: lsp.Position) -> int:
        return sum(len(x) + 1 for x in lines[:p.line]) + p.character
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


def test_server_announces_its_features(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            caps = ed.capabilities
            assert caps.completion_provider and "." in caps.completion_provider.trigger_characters
            assert caps.hover_provider and caps.code_action_provider
            assert caps.text_document_sync is not None
    run(scenario)


def test_diagnostics_on_open_and_on_change_are_segmap_checks(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = MAPPING.replace("data.customer.email", "data.customer.emial")
            uri, diags = await ed.open(tmp_path / "segmap.yaml", text)
            (d,) = diags
            assert (d.code, d.source, d.severity) == ("E203", "segmap", lsp.DiagnosticSeverity.Error)
            # the span of `segmap check`: line 9, columns 30-35 (1-based, end exclusive) -> 0-based LSP positions
            assert (d.range.start.line, d.range.start.character, d.range.end.character) == (8, 29, 34)
            assert "help: did you mean `email`?" in d.message and "note: the fields of" in d.message
            diags = await ed.replace(uri, "emial", "email")
            assert diags == []
            # a warning appears as you type, and an acknowledgement hides it
            diags = await ed.replace(uri, "order_id: data.payment_id", "revenue: fixed(data.total_amount / 100, 2)")
            assert sorted(d.code for d in diags) == ["W410", "W430"]
            assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in diags)
            diags = await ed.replace(uri, "100, 2)", "100, 2)  # segmap: allow W410, W430")
            assert diags == []
    run(scenario)


def test_completion_of_envelope_paths_with_type_doc_and_enum_values(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = MAPPING + "        status: data.status\n        who: data.customer.\n"
            uri, _ = await ed.open(tmp_path / "m.yaml", text)
            items = await ed.complete(uri, "who: data.customer.")
            assert {"customer_id", "email", "name", "phone_number"} <= set(items)
            assert items["customer_id"].detail == "string"
            assert items["phone_number"].detail == "string (nullable, optional)"
            items = await ed.complete(uri, "status: data.")
            status = items["status"]
            assert "IntentStatus" in status.detail and '`"succeeded"`' in status.documentation.value
            assert items["total_amount"].documentation.value.startswith("`total_amount`: integer")
            assert "refunds" in items and "dispute_id" not in items  # Payment's fields, not Dispute's
    run(scenario)


def test_completion_for_a_glob_marks_fields_only_some_events_have(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = MAPPING + '  "*.succeeded":\n    - track: Thing Succeeded\n      properties:\n        x: data.\n'
            uri, _ = await ed.open(tmp_path / "m.yaml", text)
            items = await ed.complete(uri, "x: data.")
            shared = items["payment_id"]  # payment.succeeded and refund.succeeded both have it
            assert "only" not in shared.detail and "Every event of the rule has it (2)" in shared.documentation.value
            only = items["refund_id"]
            assert only.detail.endswith("only 1 of 2 events") and "refund.succeeded" in only.documentation.value
            assert only.sort_text > shared.sort_text
    run(scenario)


def test_completion_inside_map_knows_the_item_type(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = MAPPING + "        ids: map(data.product_cart ?? [], p => p.)\n"
            uri, _ = await ed.open(tmp_path / "m.yaml", text)
            items = await ed.complete(uri, "p => p.")
            assert {"product_id", "quantity"} <= set(items) and "payment_id" not in items
    run(scenario)


def test_completion_of_functions_call_keys_and_segment_fields(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = MAPPING + "        label: \n      context:\n        ip: business_id\n        \n    - \n"
            uri, _ = await ed.open(tmp_path / "m.yaml", text)
            items = await ed.complete(uri, "label: ")
            assert items["slice"].detail == "slice(x: text_or_list, start: number, end?: number) -> any"
            assert items["filter"].detail.startswith("filter(list, item => condition)")
            assert {"data", "type", "timestamp", "business_id", "to_major", "null"} <= set(items)
            items = await ed.complete(uri, "    - \n", 6)
            assert set(items) == {"track", "identify", "group", "page", "screen", "alias"}
            items = await ed.complete(uri, "        ip: business_id\n        ")
            assert {"locale", "timezone", "userAgent"} <= set(items) and "ip" not in items
            text2 = text.replace("      properties:\n", "      \n      properties:\n", 1)
            uri2, _ = await ed.open(tmp_path / "m2.yaml", text2)
            items = await ed.complete(uri2, "Order Completed\n      ")
            assert {"anonymousId", "timestamp", "integrations", "when"} <= set(items)
            assert "properties" not in items and "traits" not in items  # present / not a track field
            items = await ed.complete(uri2, "      properties:\n        ")
            assert {"revenue", "currency", "products"} <= set(items) and "order_id" not in items
    run(scenario)


def test_hover_on_paths_and_functions(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = MAPPING + "        total: to_major(data.total_amount, data.currency)\n"
            uri, _ = await ed.open(tmp_path / "m.yaml", text)
            h = await ed.hover(uri, "email: data.customer.email", 14)  # on `customer`
            assert h.contents.value.startswith("`data.customer`: object CustomerLimitedDetails")
            h = await ed.hover(uri, "to_major(data.total_amount", 2)
            assert "to_major(amount: integer, currency: currency) -> number" in h.contents.value
            h = await ed.hover(uri, "data.currency)", 7)
            assert h.contents.value.startswith("`data.currency`: Currency") and "`\"USD\"`" in h.contents.value
    run(scenario)


def test_code_actions_apply_suggestions_and_acknowledge_warnings(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = MAPPING.replace("data.customer.email", "data.customer.emial")
            text += "        amount: fixed(data.total_amount / 100, 2)  # segmap: allow W410, W420\n"
            uri, diags = await ed.open(tmp_path / "m.yaml", text)
            by_code = {d.code: d for d in diags}
            assert set(by_code) == {"E203", "W430", "W014"}
            (fix,) = await ed.code_actions(uri, by_code["E203"])
            assert fix.title == "Replace with `email`" and fix.is_preferred
            text = _apply(text, fix.edit.changes[uri])
            actions = {a.title: a for a in await ed.code_actions(uri, by_code["W430"])}
            assert "Replace with `to_major(data.total_amount, data.currency)`" in actions
            ack = actions["Acknowledge W430 on this line (# segmap: allow W430)"]
            text = _apply(text, ack.edit.changes[uri])
            (remove,) = await ed.code_actions(uri, by_code["W014"])
            text = _apply(text, remove.edit.changes[uri])
            assert "# segmap: allow W410, W430\n" in text
            uri2, diags = await ed.open(tmp_path / "fixed.yaml", text)
            assert diags == []
    run(scenario)


def test_completion_of_enum_values_inside_a_compared_string(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = MAPPING.replace("    - track: Order Completed\n",
                                   '    - track: Order Completed\n      when: data.status == "succ"\n')
            text += '  "subscription.*":\n    - track: Sub\n      when: type != "subscription.ren"\n'
            uri, _ = await ed.open(tmp_path / "m.yaml", text)
            items = await ed.complete(uri, 'data.status == "succ')
            assert {"succeeded", "failed", "cancelled"} <= set(items)
            items = await ed.complete(uri, 'type != "subscription.ren')
            assert "subscription.renewed" in items and "payment.succeeded" not in items
    run(scenario)


def test_code_actions_from_fix_hints_guard_and_quote(tmp_path):
    async def scenario():
        async with editor(tmp_path) as ed:
            text = ("version: 1\nevents:\n  payment.failed:\n    - track: Payment Failed\n"
                    "      userId: data.payment_method\n      properties:\n        plan: pro\n")
            uri, diags = await ed.open(tmp_path / "m.yaml", text)
            by_code = {d.code: d for d in diags}
            assert set(by_code) == {"E303", "E206"}
            (guard,) = await ed.code_actions(uri, by_code["E303"])
            assert guard.title == "Guard the call with `when: data.payment_method != null`"
            (quote,) = await ed.code_actions(uri, by_code["E206"])
            text = _apply(text, guard.edit.changes[uri] + quote.edit.changes[uri])  # both against this text
            assert "      when: data.payment_method != null\n" in text and "plan: '\"pro\"'" in text
            _, diags = await ed.open(tmp_path / "fixed.yaml", text)
            assert diags == []
    run(scenario)
