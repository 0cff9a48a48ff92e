#!/usr/bin/python3
"""Write an OCI image layout holding one layer made of a directory tree.

  oci-image.py ROOTFS LAYOUT --ref NAME... --entrypoint ARG... [--env K=V]...
               [--label K=V]... [--workdir DIR]

The layer is a tar of ROOTFS in name order, every entry owned by root with
the mtime SOURCE_DATE_EPOCH (default 0), gzipped without a name or time, so
the same tree gives the same digests. The image config's created time is
that epoch too. Each --ref names the one manifest in index.json.
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))


def blob(layout, data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}


def tar_entries(root):
    """Paths under root relative to it, parents before children, by name."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            yield rel
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            yield os.path.normpath(os.path.join(rel, name))


def layer_tar(root):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in tar_entries(root):
            path = os.path.join(root, rel)
            tar.inodes.clear()  # a second name of a file goes in whole, not as a hard link
            info = tar.gettarinfo(path, arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = EPOCH
            info.pax_headers = {}
            if info.isreg():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            elif info.isdir() or info.issym():
                tar.addfile(info)
            else:
                sys.exit(f"oci-image.py: {path}: only files, directories and symlinks go in a layer")
    return out.getvalue()


def gzipped(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0, compresslevel=9) as z:
        z.write(data)
    return out.getvalue()


def key_values(pairs, what):
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            sys.exit(f"oci-image.py: {what} '{pair}' is not KEY=VALUE")
        result[key] = value
    return result


def main():
    p = argparse.ArgumentParser(description="Write an OCI image layout of one directory tree.")
    p.add_argument("rootfs")
    p.add_argument("layout")
    p.add_argument("--ref", action="append", required=True)
    p.add_argument("--entrypoint", nargs="+", required=True)
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--workdir", default="/")
    a = p.parse_args()

    if os.path.exists(a.layout):
        sys.exit(f"oci-image.py: {a.layout} exists")
    os.makedirs(os.path.join(a.layout, "blobs", "sha256"))
    with open(os.path.join(a.layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    tar = layer_tar(a.rootfs)
    layer = blob(a.layout, gzipped(tar), "application/vnd.oci.image.layer.v1.tar+gzip")
    created = datetime.datetime.fromtimestamp(EPOCH, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = {
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Entrypoint": a.entrypoint,
            "Env": [f"{k}={v}" for k, v in key_values(a.env, "--env").items()],
            "Labels": key_values(a.label, "--label"),
            "WorkingDir": a.workdir,
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        "history": [{"created": created, "created_by": "runenv/oci-image.py"}],
    }
    config_desc = blob(a.layout, json.dumps(config, sort_keys=True).encode(),
                       "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer],
    }
    manifest_desc = blob(a.layout, json.dumps(manifest, sort_keys=True).encode(),
                         "application/vnd.oci.image.manifest.v1+json")
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [dict(manifest_desc, annotations={"org.opencontainers.image.ref.name": ref})
                      for ref in a.ref],
    }
    with open(os.path.join(a.layout, "index.json"), "w") as f:
        json.dump(index, f, sort_keys=True)


if __name__ == "__main__":
    main()
