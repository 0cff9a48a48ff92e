#!/usr/bin/env bats
# The runenv images as a user gets them: kontainapp/runenv-python, loaded
# from the archives `make runenv` writes (make test builds them first, on a
# host with /dev/kvm: CPython's configure runs its checks under km), run
# with krun by dockerd and podman started here, and a user's app image
# FROM it, built with docker build and buildah bud.

PYTHON_OUT=build/runenv/python

setup_file() {
	load helpers
	load engines
	[ -e /dev/kvm ] || return 0 # each test skips, loudly
	[ -e "$REPO/$PYTHON_OUT/runenv-python.docker.tar" ] || return 0 # likewise
	ENGINES=$(mktemp -d /tmp/kontain-engines.XXXXXX)
	export ENGINES
	start_dockerd
	docker load -q -i "$REPO/$PYTHON_OUT/runenv-python.docker.tar" >/dev/null
}

teardown_file() {
	load engines
	stop_engines
}

setup() {
	load helpers
	load engines
	need_kvm
	if [ ! -e "$REPO/$PYTHON_OUT/runenv-python.docker.tar" ]; then
		[ -n "${KM_TESTS_VM_ACCEL:-}" ] || fail "$PYTHON_OUT is missing: run make runenv"
		echo "# RUNENV TEST SKIPPED: no image; make test builds it on a host with /dev/kvm, this one has none" >&3
		skip "no runenv image: the host that ran make test had no /dev/kvm to build it"
	fi
	cd "$BATS_TEST_TMPDIR"
}

py() {
	docker run --runtime=krun --rm "$@"
}

@test "runenv-python: python3 imports what a web service needs and runs it under km" {
	run py kontainapp/runenv-python -c 'import ssl, sqlite3, json, zlib, bz2, lzma, hashlib, decimal, socket, select, datetime, unicodedata, array, math, struct, ctypes, subprocess, sys
con = sqlite3.connect(":memory:")
print(sys.version_info[:2], ssl.OPENSSL_VERSION.split()[1], sqlite3.sqlite_version, zlib.ZLIB_VERSION,
      lzma.decompress(bz2.decompress(bz2.compress(lzma.compress(b"xz-bz2")))).decode(),
      json.dumps(con.execute("select 6 * 7").fetchall()), decimal.Decimal(1) / 8,
      hashlib.sha256(b"km").hexdigest()[:12], ssl.create_default_context().cert_store_stats()["x509_ca"] > 100,
      subprocess.run(["/usr/local/bin/python3", "-c", "print(\"child\")"], capture_output=True).stdout.decode().strip(),
      sys.executable, sys.prefix)'
	assert_success
	assert_output "(3, 11) 3.0.20 3.40.1 1.2.13 xz-bz2 [[42]] 0.125 $(printf km | sha256sum | cut -c1-12) True child /usr/local/bin/python3 /usr/local"
	# python and python3 name the same program; the process is km.
	run py --entrypoint python kontainapp/runenv-python -c 'import os; print(os.readlink("/proc/self/exe"))'
	assert_output "/usr/local/bin/python3.11"
	local id pid
	id=$(docker run --runtime=krun -d kontainapp/runenv-python -c 'import time; time.sleep(30)')
	pid=$(docker inspect -f '{{.State.Pid}}' "$id")
	run readlink "/proc/$pid/exe"
	assert_output --regexp "/opt/kontain/bin/km$"
	docker rm -f "$id" >/dev/null
}

@test "runenv-python's image: entrypoint python3, PATH and LANG, labels with the sources' versions" {
	run docker image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Env}}' kontainapp/runenv-python:3.11
	assert_output '["/usr/local/bin/python3"] ["PATH=/usr/local/bin:/usr/bin:/bin","LANG=C.UTF-8"]'
	run docker image inspect -f '{{index .Config.Labels "com.kontain.sources"}}' kontainapp/runenv-python
	assert_output --regexp "^zlib=1:1\.2\.13\.dfsg-1 .* python3\.11=3\.11\.2-"
	run docker image inspect -f '{{index .Config.Labels "com.kontain.sdk.version"}} {{index .Config.Labels "org.opencontainers.image.version"}}' \
		kontainapp/runenv-python
	assert_output "$(cat "$REPO/VERSION") 3.11.2"
	# Three names for one image.
	run docker images -q --no-trunc kontainapp/runenv-python
	assert_equal "$(echo "$output" | sort -u | wc -l)" 1
	run docker images --format '{{.Tag}}' kontainapp/runenv-python
	assert_equal "$(echo "$output" | sort | paste -sd ' ')" "3.11 3.11.2 latest"
}

@test "the OCI archive loads with podman load, the layout copies with skopeo copy; both run with krun" {
	ran_directly "podman load and skopeo copy"
	run podman_ load -q -i "$REPO/$PYTHON_OUT/runenv-python.oci.tar"
	assert_success
	assert_output "Loaded image: docker.io/kontainapp/runenv-python:latest"
	run podman_ run --rm "${PODMAN_LIMITS[@]}" kontainapp/runenv-python -c 'print("podman", 6 * 7)'
	assert_success
	assert_output "podman 42"
	skopeo copy -q "oci:$REPO/$PYTHON_OUT/oci" \
		"containers-storage:[overlay@$ENGINES/podman+$ENGINES/podman-run]localhost/copied:1"
	run podman_ run --rm "${PODMAN_LIMITS[@]}" localhost/copied:1 -c 'print("skopeo", 6 * 7)'
	assert_output "skopeo 42"
}

@test "run without krun, the image says what to do: kontain-interp's one line, status 127" {
	run -127 docker run --rm kontainapp/runenv-python -c 'print(1)'
	assert_output "kontain-interp: cannot run km, /opt/kontain/lib/../bin/km: no such file (in a container, run it with the OCI runtime krun: docker run --runtime=krun)"
}

# A user's app: a Dockerfile FROM the image that copies in a small HTTP
# service on the standard library.
app_context() {
	local ctx=$BATS_TEST_TMPDIR/app
	mkdir -p "$ctx"
	cat >"$ctx/server.py" <<-'PY'
		import json, os, sys
		from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

		class Handler(BaseHTTPRequestHandler):
		    def do_GET(self):
		        body = json.dumps({"path": self.path, "pid": os.getpid() > 0}).encode()
		        self.send_response(200)
		        self.send_header("Content-Type", "application/json")
		        self.send_header("Content-Length", str(len(body)))
		        self.end_headers()
		        self.wfile.write(body)

		    def log_message(self, *args):
		        pass

		server = ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler)
		print("listening on", sys.argv[1], flush=True)
		server.serve_forever()
	PY
	cat >"$ctx/Dockerfile" <<-'DOCKERFILE'
		FROM kontainapp/runenv-python
		COPY server.py /app/
		WORKDIR /app
		CMD ["server.py", "8080"]
	DOCKERFILE
	echo "$ctx"
}

# Serves wrk on PORT from container ID, then stops it and leaves its status in $status.
serve_and_stop() { # ID PORT
	local id=$1 port=$2
	for _ in $(seq 150); do
		docker logs "$id" 2>&1 | grep -q "listening on" && break
		sleep 0.2
	done
	run curl -sf "http://127.0.0.1:$port/hello"
	assert_output '{"path": "/hello", "pid": true}'
	run wrk -t2 -c8 -d2s --timeout 10s "http://127.0.0.1:$port/"
	assert_success
	refute_output --partial "Socket errors"
	refute_output --partial "Non-2xx"
	assert_output --regexp "[1-9][0-9]* requests in"
	docker stop -t 10 "$id" >/dev/null
	status=$(docker inspect -f '{{.State.ExitCode}}' "$id")
}

@test "an app FROM runenv-python, built by docker build: http.server under wrk, docker stop ends it as natively" {
	local ctx id native
	ctx=$(app_context)
	docker build -q -t kontain-pyapp:1 "$ctx" >/dev/null
	id=$(docker run --runtime=krun -d -p 127.0.0.1:18081:8080 kontain-pyapp:1)
	serve_and_stop "$id" 18081
	# Natively SIGTERM's default action ends python: 128 + 15.
	/usr/bin/python3.11 "$ctx/server.py" 18082 >/dev/null &
	local pid=$!
	sleep 1
	kill -TERM "$pid"
	wait "$pid" && native=0 || native=$?
	assert_equal "$status" "$native"
	docker rm "$id" >/dev/null
}

@test "the same app built by buildah bud runs with podman and krun" {
	ran_directly "buildah bud"
	local ctx id
	ctx=$(app_context)
	podman_ load -q -i "$REPO/$PYTHON_OUT/runenv-python.oci.tar" >/dev/null
	buildah --root "$ENGINES/podman" --runroot "$ENGINES/podman-run" bud --isolation chroot -q \
		-t kontain-pyapp:2 "$ctx" >/dev/null
	id=$(podman_ run -d "${PODMAN_LIMITS[@]}" -p 127.0.0.1:18083:8080 kontain-pyapp:2)
	for _ in $(seq 150); do
		podman_ logs "$id" 2>&1 | grep -q "listening on" && break
		sleep 0.2
	done
	run curl -sf http://127.0.0.1:18083/buildah
	assert_output '{"path": "/buildah", "pid": true}'
	run wrk -t2 -c8 -d2s --timeout 10s http://127.0.0.1:18083/
	assert_success
	refute_output --partial "Socket errors"
	podman_ rm -f "$id" >/dev/null
}

@test "bad use: a missing script is python's line and status 2; memory past docker run -m is a MemoryError" {
	run py kontainapp/runenv-python /app/missing.py
	assert_failure 2
	assert_output "/usr/local/bin/python3: can't open file '/app/missing.py': [Errno 2] No such file or directory"
	run py -m 128m kontainapp/runenv-python -c '
kept = [bytearray(40 << 20)]
print("40 MiB: ok", flush=True)
kept.append(bytearray(400 << 20))'
	assert_failure 1
	assert_line "40 MiB: ok"
	assert_line "MemoryError"
	# The engine and the image are fine afterwards.
	run py kontainapp/runenv-python -c 'print("still fine")'
	assert_output "still fine"
}

@test "pip installs a pure-Python package, under docker run and in a buildah bud RUN step with krun" {
	ran_directly "pip (10 min under emulation)"
	local wheels=/usr/share/python-wheels
	ls "$wheels"/setuptools-*.whl >/dev/null || fail "python3-setuptools-whl is not installed"
	mkdir -m 777 site
	run py -v "$wheels:/wheels:ro" -v "$PWD/site:/site" kontainapp/runenv-python \
		-m pip install -q --no-index --find-links /wheels --target /site setuptools
	assert_success
	run py -v "$PWD/site:/site:ro" -e PYTHONPATH=/site kontainapp/runenv-python \
		-c 'import setuptools, pkg_resources; print(setuptools.__version__, setuptools.__file__)'
	assert_success
	assert_output --regexp "^$(basename "$wheels"/setuptools-*.whl | cut -d- -f2) /site/setuptools/__init__.py$"
	run py --entrypoint pip kontainapp/runenv-python --version
	assert_output --regexp "^pip 23\.0\.1 from /usr/local/lib/python3\.11/pip-23\.0\.1-py3-none-any\.whl/pip \(python 3\.11\)$"

	mkdir ctx
	cp "$wheels"/setuptools-*.whl ctx/
	cat >ctx/Dockerfile <<-'DOCKERFILE'
		FROM kontainapp/runenv-python
		COPY *.whl /wheels/
		RUN ["pip", "install", "-q", "--no-index", "--find-links", "/wheels", "setuptools"]
		CMD ["-c", "import setuptools; print(setuptools.__file__)"]
	DOCKERFILE
	podman_ load -q -i "$REPO/$PYTHON_OUT/runenv-python.oci.tar" >/dev/null
	# The RUN step runs in a container of the OCI runtime named (not in a chroot).
	run buildah --root "$ENGINES/podman" --runroot "$ENGINES/podman-run" bud --isolation oci \
		--runtime "$KONTAIN/bin/krun" -q -t kontain-pip:1 ctx
	assert_success
	run podman_ run --rm "${PODMAN_LIMITS[@]}" kontain-pip:1
	# Debian's CPython installs under PREFIX/local (its posix_local scheme), on sys.path.
	assert_output "/usr/local/local/lib/python3.11/dist-packages/setuptools/__init__.py"
}
