#!/usr/bin/env python3
"""Checks a `rombsr audit-proof` file the way a third party would, with the
Python standard library only (docs/audit-log.md, "Checking a proof without
ROMbsr"): the entry's leaf hash, its index, the RFC 9162 inclusion path up to
the checkpoint's root, the checkpoint's origin and the signature line of the
audit key. The ECDSA signature itself is left to OpenSSL: with --extract DIR
this writes DIR/body (the signed bytes), DIR/sig.der and DIR/spki.der for

    openssl pkey -pubin -inform DER -in DIR/spki.der -out DIR/pub.pem
    openssl dgst -sha256 -verify DIR/pub.pem -signature DIR/sig.der DIR/body

Usage: audit-proof-check.py PROOF VKEY [--origin ORIGIN] [--extract DIR]
Exit 0 and "inclusion ok: ..." on success; 1 and the reason otherwise.
"""
import argparse
import base64
import hashlib
import json
import os
import sys


class Bad(Exception):
    pass


def b64(text, what):
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise Bad(f"{what}: not base64")
    if base64.b64encode(data).decode() != text:
        raise Bad(f"{what}: not canonical base64")
    return data


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(leaf_hash, index, size, path):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        raise Bad(f"index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise Bad("the inclusion path is too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Bad("the inclusion path is too short")
    return r


def parse_vkey(text):
    """<name>+<8 hex key ID>+<base64(0x02 || DER SubjectPublicKeyInfo)>"""
    name, key_id, key = text.strip("\n").split("+", 2)
    raw = b64(key, "vkey")
    if raw[0] != 0x02:
        raise Bad("vkey: not an ECDSA (type 0x02) key")
    spki = raw[1:]
    # For type 0x02 the key ID is SHA-256 of the SPKI, first 4 bytes.
    if hashlib.sha256(spki).digest()[:4].hex() != key_id:
        raise Bad("vkey: the key ID does not match the key")
    return name, bytes.fromhex(key_id), spki


def check(proof, vkey, origin=None):
    name, key_id, spki = parse_vkey(vkey)
    lines = proof.split(b"\n")
    if lines[0] != b"rombsr.audit-proof@v1":
        raise Bad("line 1 is not rombsr.audit-proof@v1")
    entry = lines[1]
    if lines[2] != b"c2sp.org/tlog-proof@v1":
        raise Bad("line 3 is not c2sp.org/tlog-proof@v1")
    if not lines[3].startswith(b"index "):
        raise Bad("line 4 is not 'index N'")
    index = int(lines[3][6:])
    at = 4
    path = []
    while lines[at] != b"":
        h = b64(lines[at].decode(), f"hash line {at + 1}")
        if len(h) != 32:
            raise Bad(f"hash line {at + 1} is not 32 bytes")
        path.append(h)
        at += 1
    note = lines[at + 1:]
    # The checkpoint: origin, size, root, a blank line, signature lines.
    cp_origin, size_text, root_text = (l.decode() for l in note[:3])
    body = b"\n".join(note[:3]) + b"\n"
    size = int(size_text)
    if str(size) != size_text:
        raise Bad("the checkpoint's size is not canonical")
    root = b64(root_text, "checkpoint root")
    if note[3] != b"":
        raise Bad("the checkpoint has extension lines")
    if origin is not None and cp_origin != origin:
        raise Bad(f"the checkpoint is of origin {cp_origin}, not {origin}")
    sig = None
    for l in note[4:]:
        if l == b"":
            continue
        dash, signer, value = l.decode().split(" ")
        if dash != "\u2014":
            raise Bad("a signature line does not start with an em dash")
        raw = b64(value, "signature line")
        if signer == name and raw[:4] == key_id:
            sig = raw[4:]
    if sig is None:
        raise Bad("no signature line of the audit key")
    # The entry: its own index must be the proof's, its leaf on the path.
    if json.loads(entry)["index"] != index:
        raise Bad(f"the entry says index {json.loads(entry)['index']}, the proof {index}")
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    if root_from_path(leaf, index, size, path) != root:
        raise Bad("the root computed from the entry and the path is not the checkpoint's")
    return index, size, body, sig, spki


def main(argv):
    parser = argparse.ArgumentParser(description="Checks a rombsr audit-proof file.")
    parser.add_argument("proof")
    parser.add_argument("vkey")
    parser.add_argument("--origin")
    parser.add_argument("--extract", metavar="DIR")
    args = parser.parse_args(argv[1:])
    try:
        with open(args.proof, "rb") as f:
            proof = f.read()
        with open(args.vkey) as f:
            vkey = f.read()
        index, size, body, sig, spki = check(proof, vkey, args.origin)
    except (Bad, ValueError, IndexError, KeyError, UnicodeDecodeError) as e:
        print(f"audit-proof-check: {e}", file=sys.stderr)
        return 1
    if args.extract is not None:
        os.makedirs(args.extract, exist_ok=True)
        for name, data in (("body", body), ("sig.der", sig), ("spki.der", spki)):
            with open(os.path.join(args.extract, name), "wb") as f:
                f.write(data)
    print(f"inclusion ok: entry {index} is in the tree of {size} entries the checkpoint names")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
