#!/bin/bash
# Print an image's size, from its OCI layout, as the goal is stated: the sum
# of its layers uncompressed (what `docker images` shows) and compressed.
#   image-size.sh LAYOUT NAME GOAL_MB
set -euo pipefail
python3 - "$@" <<'PY'
import gzip, json, os, sys
layout, name, goal = sys.argv[1], sys.argv[2], int(sys.argv[3])
blob = lambda d: os.path.join(layout, "blobs", "sha256", d.split(":")[1])
manifest = json.load(open(os.path.join(layout, "index.json")))["manifests"][0]["digest"]
layers = json.load(open(blob(manifest)))["layers"]
packed = sum(l["size"] for l in layers)
unpacked = 0
for l in layers:
    with gzip.open(blob(l["digest"])) as f:
        while chunk := f.read(1 << 20):
            unpacked += len(chunk)
verdict = "met" if unpacked / 1e6 <= goal else "NOT MET"
print(f"{name}: {unpacked / 1e6:.1f} MB uncompressed (goal {goal} MB: {verdict}), {packed / 1e6:.1f} MB compressed")
PY
