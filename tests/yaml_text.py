"""Writing arbitrary text into test mappings."""


def yaml_dq(s: str) -> str:
    """A YAML double-quoted scalar holding exactly ``s`` (YAML escapes, not JSON's surrogate pairs)."""
    out = []
    for ch in s:
        c = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= c < 0x7F:
            out.append(ch)
        elif c <= 0xFFFF:
            out.append(f"\\u{c:04x}")
        else:
            out.append(f"\\U{c:08x}")
    return '"' + "".join(out) + '"'
