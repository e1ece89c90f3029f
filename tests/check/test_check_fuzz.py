"""CI-sized fuzzing of `segmap check` for cost: no traceback, time and output bounded per input byte.

The inputs (segmap/testing/check_fuzz.py) repeat a fragment hundreds or
thousands of times -- keys, aliases, long lines, one mistake per line, glob
rules -- because repetition is what turned a 6 KB file into 18 MB of output
and 40,000 keys into 86 s before. Every diagnostic is rendered in all three
formats, as `segmap check` would print it.

The bounds are generous on purpose: timings on a shared machine vary by a
factor of several, so the time bound (100 ms per KB, plus 3 s for the first
imports) only catches a super-linear blow-up, never a slow run. The longer
run is `python bench/fuzz_check.py`.
"""
from hypothesis import HealthCheck, given, settings

from segmap.testing.check_fuzz import measure, repetitive_mappings

MS_PER_KB = 100
OUTPUT_PER_INPUT_BYTE = 20
OUTPUT_CONSTANT = 256 * 1024  # a few small diagnostics with their notes, whatever the input size


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
@given(repetitive_mappings(max_count=1500))
def test_cost_is_bounded_per_input_byte(text):
    size = len(text.encode("utf-8", "surrogatepass"))
    cost = measure(text)  # raises on any traceback
    assert cost.seconds < 3 + MS_PER_KB * size / 1024 / 1000, f"{cost.seconds:.2f} s for {size} bytes"
    assert cost.output_bytes < OUTPUT_CONSTANT + OUTPUT_PER_INPUT_BYTE * size, (cost.output_bytes, size)
