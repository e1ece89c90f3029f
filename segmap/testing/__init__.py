"""Test helpers for segmap and for people testing their own mappings.

Needs the dev extra (hypothesis); nothing in the runtime package imports this.
"""
