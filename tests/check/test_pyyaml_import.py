"""segmap imports PyYAML without compiling its costliest pattern (segmap/dsl/pyyaml.py): what it
puts in its place matches exactly the same characters, and PyYAML does use it."""
import ast
import re
import subprocess
import sys

from segmap.dsl import pyyaml

from tests.check.conftest import ROOT


def test_the_listed_class_matches_what_pyyamls_matches_over_all_of_unicode():
    slow = re.compile(pyyaml.NON_PRINTABLE, re.UNICODE)  # the same meaning, another cache key: compiled anew
    fast = re.compile(pyyaml.NON_PRINTABLE_LISTED)
    text = "".join(map(chr, range(0x110000)))
    assert [m.start() for m in slow.finditer(text)] == [m.start() for m in fast.finditer(text)]


def test_the_pattern_is_pyyamls_own():
    import yaml.reader

    with open(yaml.reader.__file__, encoding="utf-8") as fh:
        reader = fh.read()
    # yaml/reader.py writes the pattern with escapes; compare what they mean
    written = reader.split("NON_PRINTABLE = re.compile(", 1)[1].split(")\n", 1)[0]
    assert ast.literal_eval(written) == pyyaml.NON_PRINTABLE


def test_pyyaml_uses_the_seeded_pattern_in_a_fresh_process():
    code = ("import segmap.dsl.yaml_source, yaml.reader, re\n"
            "print(yaml.reader.Reader.NON_PRINTABLE.pattern == segmap.dsl.pyyaml.NON_PRINTABLE_LISTED)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"  # False: this Python's re keeps no cache, the seed does nothing


def test_unprintable_input_is_still_refused_by_the_pure_python_reader():
    import yaml

    try:
        list(yaml.parse("a: \x07", Loader=yaml.SafeLoader))
    except yaml.reader.ReaderError as exc:
        assert "#x0007" in str(exc) and exc.position == 3
    else:
        raise AssertionError("the control character was accepted")
