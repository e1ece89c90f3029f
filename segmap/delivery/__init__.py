"""Delivery: from committed outbox rows to Segment's HTTP API.

Everything here runs after a webhook has been accepted: message encoding
(`message`), the Segment client (`segment_client`), the retry policy
(`retry`), the outbox stores (`outbox`), the worker (`worker`) and the sinks
it sends to (`sinks`). Generated mapping code never imports this package; it
lives beside `segmap.runtime`, which holds only what generated code calls.
"""
