"""`segmap backfill`: a merchant's Dodo history into Segment through the same mapping.

resources.py  which Dodo objects are read and which webhook each state stands for
needs.py      what the mapping reads, so that only what it needs is fetched (E701 otherwise)
source.py     the Dodo API through the official SDK: windows, pages from 0, backoff
runner.py     objects -> envelopes -> calls -> the outbox, with a cursor per resource
progress.py   the status line

The calls go to the same outbox `segmap serve` uses, for the same delivery
worker; nothing here talks to Segment.
"""
