#!/usr/bin/python3
"""Rewrite, in place, the ELF interpreter path that PT_INTERP names.

  set-interp.py PROGRAM PATH

A program built by kontain-gcc names the SDK's kontain-interp where the SDK
was when it was built; in an image the SDK's place is /opt/kontain. The new
path must fit in the old one's room (it is padded with NULs).
"""

import struct
import sys

PT_INTERP = 3


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: set-interp.py PROGRAM PATH")
    program, path = sys.argv[1], sys.argv[2].encode()
    with open(program, "r+b") as f:
        ident = f.read(64)
        if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
            sys.exit(f"set-interp.py: {program}: not a 64-bit little-endian ELF")
        phoff, = struct.unpack_from("<Q", ident, 32)
        phentsize, phnum = struct.unpack_from("<HH", ident, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _, p_offset, _, _, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
            if p_type != PT_INTERP:
                continue
            if len(path) + 1 > p_filesz:
                sys.exit(f"set-interp.py: {program}: {sys.argv[2]} does not fit in PT_INTERP's {p_filesz} bytes")
            f.seek(p_offset)
            f.write(path + b"\0" * (p_filesz - len(path)))
            return
    sys.exit(f"set-interp.py: {program}: no PT_INTERP")


if __name__ == "__main__":
    main()
