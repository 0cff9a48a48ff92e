#!/usr/bin/python3
"""Copy files from a tree of unpacked Debian packages into an image's root,
with every shared library they need, computed from the ELF files.

  closure.py FROM TO PATH...

Each PATH (absolute, as in FROM; a directory copies whole) goes to the same
place under TO, symlinks as symlinks, followed. For each ELF file copied,
its interpreter (PT_INTERP) and its DT_NEEDED libraries go too, looked up
as ld.so would (DT_RUNPATH with $ORIGIN, then the multiarch and default
directories), and theirs in turn. A library that cannot be found is an
error: the image would not run. Within a directory, though, a library that
needs one no package has (a JRE's sound or font support, say) is left out,
with a line saying so.
"""

import os
import re
import shutil
import subprocess
import sys

LIBRARY_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib"]


def fail(message):
    sys.exit("closure.py: " + message)


class Closure:
    def __init__(self, source, target):
        self.source, self.target = source, target
        self.done = set()
        self.by_name = {}  # file name -> path, of the libraries taken

    def inside(self, path):
        return os.path.join(self.source, path.lstrip("/"))

    def resolve(self, path, copy_links=True):
        """PATH with its symlinks followed inside the source tree; copies each link met."""
        parts = [p for p in path.split("/") if p]
        real = "/"
        for hops, part in enumerate(parts):
            candidate = os.path.join(real, part)
            here = self.inside(candidate)
            if os.path.islink(here):
                if copy_links:
                    self.copy_link(candidate)
                link = os.readlink(here)
                rest = "/".join(parts[hops + 1:])
                target = link if link.startswith("/") else os.path.join(real, link)
                return self.resolve(os.path.normpath(os.path.join(target, rest)), copy_links)
            real = candidate
        return real

    def copy_link(self, path):
        if path in self.done:
            return
        self.done.add(path)
        dest = os.path.join(self.target, path.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if not os.path.lexists(dest):
            os.symlink(os.readlink(self.inside(path)), dest)

    def add(self, path, walked=False):
        real = self.resolve(path)
        here = self.inside(real)
        if not os.path.lexists(here):
            if walked:
                return  # a link to what no package ships, like the JRE's cacerts: kept as it is
            fail(f"{path} is not in {self.source}")
        if os.path.isdir(here):
            self.add_tree(real)
            return
        if real in self.done:
            return
        self.done.add(real)
        self.by_name.setdefault(os.path.basename(real), real)
        dest = os.path.join(self.target, real.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(here, dest)
        if self.is_elf(real):
            for dependency in self.dependencies(real):
                self.add(dependency)

    def add_tree(self, real):
        """Every file under REAL; its libraries that need what is not there, left out."""
        waiting = []
        for name in sorted(os.listdir(self.inside(real))):
            path = self.resolve(os.path.join(real, name))
            if os.path.isfile(self.inside(path)) and self.is_elf(path) and self.unresolvable(path, set()):
                waiting.append(path)
            else:
                self.add(path, walked=True)
        # A library may need one its program loads first, by name (the JVM's
        # libjvm.so, which the java launcher opens): try again once all is in.
        for path in waiting:
            lacking = self.unresolvable(path, set())
            if lacking:
                print(f"closure.py: leaving out {path}: it needs {lacking}, which no package has",
                      file=sys.stderr)
            else:
                self.add(path)

    def is_elf(self, path):
        with open(self.inside(path), "rb") as f:
            return f.read(4) == b"\x7fELF"

    def unresolvable(self, path, seen):
        """The first library PATH needs, itself or through others, that is missing."""
        seen.add(path)
        try:
            dependencies = self.dependencies(path)
        except LookupError as missing:
            return str(missing)
        for dependency in dependencies:
            real = self.resolve(dependency, copy_links=False)
            if real not in seen:
                lacking = self.unresolvable(real, seen)
                if lacking:
                    return lacking
        return None

    def dependencies(self, path):
        out = subprocess.run(["readelf", "-ldW", self.inside(path)], capture_output=True, text=True).stdout
        interp = re.findall(r"\[Requesting program interpreter: (.*)\]", out)
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", out)
        runpath = re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]", out)
        origin = os.path.dirname(path)
        dirs = [d.replace("$ORIGIN", origin) for r in runpath for d in r.split(":")] + LIBRARY_DIRS
        found = list(interp)
        for name in needed:
            for d in dirs:
                candidate = os.path.normpath(os.path.join(d, name))
                if os.path.lexists(self.inside(candidate)):
                    found.append(candidate)
                    break
            else:
                if name not in self.by_name:
                    raise LookupError(name)
                found.append(self.by_name[name])
        return found


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: closure.py FROM TO PATH...")
    closure = Closure(sys.argv[1], sys.argv[2])
    for path in sys.argv[3:]:
        try:
            closure.add(path)
        except LookupError as missing:
            fail(f"{path} needs {missing}, which no unpacked package has")


if __name__ == "__main__":
    main()
