"""Recompiling (a service's reload on SIGHUP) does not grow memory.

Each compiled mapping registers its generated source with linecache so that
tracebacks show it; the entry must go with the mapping, and so must the
check that produced it and the code file name CPython keeps per distinct
name (bench/bench_mapping.py measures 1,000 recompiles of the 48-event mapping).
"""
from __future__ import annotations

import gc
import linecache
import re
import tracemalloc
import weakref

import segmap
from segmap.cli.cmd_init import starter_text
from segmap.compiler import api


def _segmap_lines() -> int:
    return sum(1 for k in linecache.cache if str(k).startswith("<segmap:"))


def test_recompiling_does_not_grow_memory():
    text = starter_text()
    for _ in range(120):  # fill the bounded caches (parser tables, per-text caches, type attribute cache) first
        kept = segmap.compile_source(text, "segmap.yaml")
    gc.collect()  # mappings earlier tests dropped (a mapping is a reference cycle) take their entries now
    lines_with_one = _segmap_lines()
    del kept

    def settled() -> int:
        re.purge()  # the re module's own cache is bounded (512 patterns) and not ours to measure
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        base = settled()
        for _ in range(150):
            kept = segmap.compile_source(text, "segmap.yaml")
        assert kept.apply and _segmap_lines() == lines_with_one  # one linecache entry per live mapping
        del kept
        growth = settled() - base
    finally:
        tracemalloc.stop()
    # a leak of one source text (~10 kB) or one check per compile would show here; what remains
    # (~90 B a compile, allocated under re.finditer in diagnostics/acknowledge.py) is left to its owner
    assert growth < 150 * 200, f"{growth} bytes more after 150 recompiles"


def test_code_names_are_reused_once_their_mapping_is_gone():
    """CPython keeps every distinct code file name it compiled (~80 B each): names are recycled."""
    gc.collect()  # numbers of mappings earlier tests dropped are freed now, not in the middle of the loop
    seen = set()
    for _ in range(20):
        m = segmap.compile_source(starter_text(), "names.yaml")
        seen.update(fn.__code__.co_filename for fn in m._dispatch.values())
        del m
        gc.collect()
    assert len(seen) == 1


def test_a_dropped_mapping_takes_its_linecache_entry_with_it():
    import pytest

    from segmap.samples import sample_envelope

    m = segmap.compile_source(starter_text(), "dropped.yaml")
    assert not [k for k in linecache.cache if str(k).startswith("<segmap:dropped.yaml#")]  # only once something fails
    env = sample_envelope("payment.succeeded")
    env["data"]["total_amount"] = "lots"
    with pytest.raises(segmap.MappingRuntimeError):
        m.apply(env)
    names = [k for k in linecache.cache if str(k).startswith("<segmap:dropped.yaml#")]
    assert len(names) == 1 and "_f.div" in "".join(linecache.getlines(names[0]))  # tracebacks can show the code
    del m
    gc.collect()
    assert not [k for k in linecache.cache if str(k).startswith("<segmap:dropped.yaml#")]


def test_the_compiled_mapping_does_not_keep_its_check_alive():
    text = starter_text()
    result = api.check_source(text, "segmap.yaml")
    plan_ref = weakref.ref(result.plan)
    compiled = api._compile_checked(result, "segmap.yaml", text=text)
    del result
    gc.collect()
    assert plan_ref() is None, "the compiled mapping keeps the plan alive"
    assert compiled.check.plan.calls  # still available on demand, computed again
