#!/bin/bash
# Print an image's size, from its OCI layout, as the goal is stated: the sum
# of its layers uncompressed (what `docker images` shows) and compressed.
#   image-size.sh LAYOUT NAME GOAL_MB
set -euo pipefail
layout=$1 name=$2 goal=$3
manifest=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' \
	"$layout/index.json")
read -r packed unpacked < <(python3 - "$layout" "$manifest" <<'PY'
import gzip, json, os, sys
layout, manifest = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(layout, "blobs", "sha256", d.split(":")[1])
layers = json.load(open(blob("sha256:" + manifest)))["layers"]
packed = sum(l["size"] for l in layers)
unpacked = 0
for l in layers:
    with gzip.open(blob(l["digest"])) as f:
        while chunk := f.read(1 << 20):
            unpacked += len(chunk)
print(packed, unpacked)
PY
)
awk -v n="$name" -v u="$unpacked" -v p="$packed" -v g="$goal" 'BEGIN {
	printf "%s: %.1f MB uncompressed (goal %d MB: %s), %.1f MB compressed\n", n, u / 1e6, g,
		u / 1e6 <= g ? "met" : "NOT MET", p / 1e6 }'
