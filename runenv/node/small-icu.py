#!/usr/bin/python3
"""Make an English-only libicudata from Debian's, as Node's own small-icu
builds are: the root and English locales, every locale-independent item
(Unicode properties, normalization, time zones, plural and unit rules, break
rules), no legacy charset converters, no break dictionaries, no
transliterators. 31 MB of data becomes about 4; Node's Intl answers in
English for any locale, and NODE_ICU_DATA naming a directory with the full
icudt72l.dat brings the rest back (ICU extends its data from there).

  small-icu.py LIBICUDATA OUT

ICU's tools (icupkg, genrb from icu-devtools) filter the package and write
each tree's locale index anew; gcc wraps the result into a shared library
with the same soname and data symbol.
"""

import os
import re
import subprocess
import sys
import tempfile

KEPT_LOCALES = {"root", "en", "en_US", "en_US_POSIX", "en_001"}
KEPT_ALWAYS = {"pool", "res_index"}
LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]*)*$")


def run(*args, cwd=None):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def data_symbol(lib):
    """(name, file offset, size) of the icudtNN_dat object in LIB."""
    sections = {}
    for line in run("readelf", "-SW", lib).splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if m:
            sections[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16))
    for line in run("readelf", "-sW", lib).splitlines():
        f = line.split()
        if len(f) == 8 and re.fullmatch(r"icudt\d+_dat", f[7]):
            address, offset = sections[f[6]]
            return f[7], int(f[1], 16) - address + offset, int(f[2], 0)
    sys.exit(f"small-icu.py: no icudtNN_dat symbol in {lib}")


def kept(item):
    tree, _, leaf = item.rpartition("/")
    name, _, kind = leaf.rpartition(".")
    if kind in ("cnv", "dict") or tree == "translit":
        return False
    return kind != "res" or not LOCALE.match(name) or name in KEPT_LOCALES | KEPT_ALWAYS


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: small-icu.py LIBICUDATA OUT")
    lib, out = sys.argv[1], os.path.abspath(sys.argv[2])
    symbol, offset, size = data_symbol(lib)
    soname = re.search(r"\(SONAME\)\s+Library soname: \[(.*)\]", run("readelf", "-dW", lib)).group(1)
    with tempfile.TemporaryDirectory() as work:
        # icupkg wants a package's file named as its items' prefix: icudtNNl.
        package = symbol[:-len("_dat")] + "l.dat"
        for step in ("full", "filtered", "small"):
            os.mkdir(os.path.join(work, step))
        full = os.path.join(work, "full", package)
        with open(lib, "rb") as f:
            f.seek(offset)
            data = f.read(size)
        with open(full, "wb") as f:
            f.write(data)
        items = run("icupkg", "-l", full).split()
        removed = [item for item in items if not kept(item) or item.endswith("/res_index.res")
                   or item == "res_index.res"]
        with open(os.path.join(work, "remove.txt"), "w") as f:
            f.write("\n".join(removed) + "\n")
        # Each tree's index names only the locales it keeps.
        trees = {}
        for item in items:
            tree, _, leaf = item.rpartition("/")
            name, _, kind = leaf.rpartition(".")
            if name == "res_index" and tree != "translit":
                trees.setdefault(tree, [])
            if kind == "res" and kept(item) and LOCALE.match(name) and name not in KEPT_ALWAYS | {"root"}:
                trees.setdefault(tree, []).append(name)
        indexes = os.path.join(work, "indexes")
        added = []
        for tree, names in sorted(trees.items()):
            os.makedirs(os.path.join(indexes, tree), exist_ok=True)
            text = os.path.join(work, "res_index.txt")
            with open(text, "w") as f:
                f.write("res_index:table(nofallback) {\n InstalledLocales {\n")
                f.writelines(f'  {name} {{""}}\n' for name in sorted(names))
                f.write(" }\n}\n")
            run("genrb", "-q", "-d", os.path.join(indexes, tree), text)
            added.append(os.path.join(tree, "res_index.res"))
        with open(os.path.join(indexes, "add.txt"), "w") as f:
            f.write("\n".join(added) + "\n")
        # root.res of brkitr names the dictionaries left out: ICU goes on without them.
        filtered = os.path.join(work, "filtered", package)
        run("icupkg", "--ignore-deps", "-r", "remove.txt", "-s", work, full, filtered, cwd=work)
        small = os.path.join(work, "small", package)
        run("icupkg", "--ignore-deps", "-a", "add.txt", "-s", indexes, filtered, small, cwd=indexes)
        with open(os.path.join(work, "data.S"), "w") as f:
            f.write(f'\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n'
                    f'{symbol}:\n\t.incbin "{small}"\n\t.size {symbol}, . - {symbol}\n'
                    '\t.section .note.GNU-stack,"",@progbits\n')
        run("gcc", "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-Wl,--build-id=none",
            "-o", out, os.path.join(work, "data.S"))


if __name__ == "__main__":
    main()
