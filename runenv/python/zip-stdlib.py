#!/usr/bin/python3
"""Zip a compiled standard library for zipimport: the .pyc files and the data
files under DIR, not the sources, in name order, every member dated
SOURCE_DATE_EPOCH, so that the same library gives the same bytes.

  zip-stdlib.py DIR ZIP
"""

import os
import sys
import time
import zipfile


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: zip-stdlib.py DIR ZIP")
    top, archive = sys.argv[1], sys.argv[2]
    epoch = max(int(os.environ.get("SOURCE_DATE_EPOCH", "0")), 315532800)  # zip dates start in 1980
    date = time.gmtime(epoch)[:6]
    members = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".py"):
                members.append(os.path.join(dirpath, name))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in members:
            info = zipfile.ZipInfo(os.path.relpath(path, top), date)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(path, "rb") as f:
                z.writestr(info, f.read())


if __name__ == "__main__":
    main()
