#!/usr/bin/env python3
"""Writes the bytes a U-Boot FIT *configuration* signature covers, rebuilt
from the FIT alone with the Python standard library, so that OpenSSL can
check the signature without U-Boot's fit_check_sign (Debian 12 ships none):

    fit-config-regions.py FIT /configurations/conf-1/signature-1 OUT
    fdtget -t bx FIT /configurations/conf-1/signature-1 value  (-> sig)
    openssl dgst -sha256 -verify key.pub -signature sig OUT

The regions are those of U-Boot's fdt_find_regions() (lib/libfdt/fdt_region.c)
over the nodes the signature node lists in "hashed-nodes": a listed node with
its properties (except data, data-size, data-position, data-offset), the
begin/end tags of its direct subnodes (so the signature's own node is in,
its value and timestamp are not), adjacent regions merged, the end tag, and
then the first bytes of the strings block that "hashed-strings" names.
An image *signature* needs none of this: it covers the image's data only.

Exit 0 on success; 1 and the reason otherwise (not a FIT, no such node, no
hashed-nodes).
"""
import struct
import sys

FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END = 1, 2, 3, 4, 9
EXCLUDED = {"data", "data-size", "data-position", "data-offset"}


def tags(fdt, off_struct, off_strings):
    """(tag, start, end, name, value) over the structure block; offsets are
    relative to the block."""
    p = 0
    while True:
        start = p
        (tag,) = struct.unpack_from(">I", fdt, off_struct + p)
        p += 4
        name = value = None
        if tag == FDT_BEGIN_NODE:
            e = fdt.index(b"\0", off_struct + p)
            name = fdt[off_struct + p:e].decode()
            p = (e - off_struct + 1 + 3) & ~3
        elif tag == FDT_PROP:
            length, nameoff = struct.unpack_from(">II", fdt, off_struct + p)
            p += 8
            s = off_strings + nameoff
            name = fdt[s:fdt.index(b"\0", s)].decode()
            value = fdt[off_struct + p:off_struct + p + length]
            p = (p + length + 3) & ~3
        elif tag not in (FDT_END_NODE, FDT_NOP, FDT_END):
            raise ValueError("unknown tag %d at %d" % (tag, start))
        yield tag, start, p, name, value
        if tag == FDT_END:
            return


def node_path(stack):
    return "/" + "/".join(stack[1:])


def regions(fdt, sig_node):
    magic, _, off_struct, off_strings = struct.unpack_from(">4I", fdt, 0)
    size_strings, size_struct = struct.unpack_from(">2I", fdt, 32)
    if magic != 0xD00DFEED:
        raise ValueError("not a flattened device tree")
    props, stack = {}, []
    for tag, _, _, name, value in tags(fdt, off_struct, off_strings):
        if tag == FDT_BEGIN_NODE:
            stack.append(name)
        elif tag == FDT_END_NODE:
            stack.pop()
        elif tag == FDT_PROP and node_path(stack) == sig_node:
            props[name] = value
    if "hashed-nodes" not in props or "hashed-strings" not in props:
        raise ValueError("%s has no hashed-nodes and hashed-strings (not a signed configuration)" % sig_node)
    nodes = {n.decode() for n in props["hashed-nodes"].split(b"\0") if n}
    str_off, str_len = struct.unpack(">II", props["hashed-strings"])
    if str_off + str_len > size_strings:
        raise ValueError("hashed-strings reaches past the strings block")

    found, start, want, wants, stack = [], None, 0, [], []
    for tag, s, e, name, _ in tags(fdt, off_struct, off_strings):
        stop = e
        if tag == FDT_PROP:
            include, stop = want >= 2 and name not in EXCLUDED, s
        elif tag == FDT_NOP:
            include, stop = want >= 2, s
        elif tag == FDT_BEGIN_NODE:
            stack.append(name)
            wants.append(want)
            if want == 1:
                stop = s
            if node_path(stack) in nodes:
                want = 2
            elif want:
                want -= 1
            else:
                stop = s
            include = want
        elif tag == FDT_END_NODE:
            include = want
            want = wants.pop()
            stack.pop()
        else:
            include = 1
        if include and start is None:
            if found and found[-1][1] == s:
                start = found.pop()[0]
            else:
                start = s
        if not include and start is not None:
            found.append((start, stop))
            start = None
    out = b"".join(fdt[off_struct + a:off_struct + b] for a, b in found)
    out += fdt[off_struct + start:off_struct + size_struct]
    return out + fdt[off_strings + str_off:off_strings + str_off + str_len]


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: fit-config-regions.py FIT SIGNATURE_NODE OUT")
    try:
        with open(sys.argv[1], "rb") as f:
            data = regions(f.read(), sys.argv[2])
    except (OSError, ValueError, struct.error) as e:
        sys.exit("fit-config-regions: %s" % e)
    with open(sys.argv[3], "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
