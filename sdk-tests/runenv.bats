#!/usr/bin/env bats
# The runenv images as a user gets them: kontainapp/runenv-python, -node
# and -java, loaded from the archives `make runenv` writes (make test builds
# them first, on a host with /dev/kvm: CPython's configure runs its checks
# under km), run with krun by dockerd and podman started here, and a user's
# app image FROM each, built with docker build and buildah bud; and
# kontainapp/buildenv-python, the build stage of python apps with native code.

RUNENV_OUT=build/runenv
LANGUAGES="python node java"
IMAGES="$LANGUAGES buildenv"

# The docker-archive of runenv-LANG, or of buildenv-python.
archive() { # LANG|buildenv
	if [ "$1" = buildenv ]; then
		echo "$REPO/$RUNENV_OUT/buildenv-python/buildenv-python.docker.tar"
	else
		echo "$REPO/$RUNENV_OUT/$1/runenv-$1.docker.tar"
	fi
}

setup_file() {
	load helpers
	load engines
	[ -e /dev/kvm ] || return 0 # each test skips, loudly
	local lang
	for lang in $IMAGES; do
		[ -e "$(archive "$lang")" ] || return 0 # likewise
	done
	ENGINES=$(mktemp -d /tmp/kontain-engines.XXXXXX)
	export ENGINES
	start_dockerd
	for lang in $IMAGES; do
		docker load -q -i "$(archive "$lang")" >/dev/null
	done
}

teardown_file() {
	load engines
	stop_engines
}

setup() {
	load helpers
	load engines
	need_kvm
	local lang
	for lang in $IMAGES; do
		[ -e "$(archive "$lang")" ] && continue
		[ -n "${KM_TESTS_VM_ACCEL:-}" ] || fail "$(archive "$lang") is missing: run make runenv"
		echo "# RUNENV TEST SKIPPED: no image; make test builds them on a host with /dev/kvm, this one has none" >&3
		skip "no runenv image: the host that ran make test had no /dev/kvm to build them"
	done
	cd "$BATS_TEST_TMPDIR"
}

# Debian's javac builds the test's classes: CLASSES gets NAME.class for each NAME.
javac_() { # NAME...
	local name sources=()
	for name in "$@"; do
		sources+=("$REPO/sdk-tests/programs/runenv/$name.java")
	done
	mkdir -p classes
	javac -d classes "${sources[@]}"
}

py() {
	docker run --runtime=krun --rm "$@"
}

# A container of IMAGE ARGS, run detached with krun, is km from the host's view.
container_is_km() { # IMAGE ARGS...
	local id pid
	id=$(docker run --runtime=krun -d "$@")
	pid=$(docker inspect -f '{{.State.Pid}}' "$id")
	run readlink "/proc/$pid/exe"
	assert_output --regexp "/opt/kontain/bin/km$"
	docker rm -f "$id" >/dev/null
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
	container_is_km kontainapp/runenv-python -c 'import time; time.sleep(30)'
}

@test "runenv-node: node -e runs Debian's node under km: zlib, crypto, fetch from its own server, a child, Intl" {
	run docker run --runtime=krun --rm kontainapp/runenv-node -e '
const zlib = require("zlib"), crypto = require("crypto"), cp = require("child_process"), http = require("http");
const server = http.createServer((q, r) => r.end("fetched")).listen(0, async () => {
  const text = await (await fetch(`http://127.0.0.1:${server.address().port}/`)).text();
  console.log(process.version, process.versions.icu, zlib.gunzipSync(zlib.gzipSync("gz")).toString(),
    crypto.createHash("sha256").update("km").digest("hex").slice(0, 12), text,
    cp.execFileSync("node", ["-p", "6 * 7"]).toString().trim(), new Intl.NumberFormat("en-US").format(1234.5),
    new Intl.DateTimeFormat("en-US", { dateStyle: "full", timeZone: "UTC" }).format(new Date(0)), process.execPath);
  server.close();
});'
	assert_success
	assert_output "v18.20.4 72.1 gz $(printf km | sha256sum | cut -c1-12) fetched 42 1,234.5 Thursday, January 1, 1970 /usr/bin/node"
	container_is_km kontainapp/runenv-node -e 'setTimeout(() => {}, 30000)'
}

@test "runenv-java: a class built by Debian's javac runs under km: threads, zip, a child JVM, the CA store, TLS" {
	javac_ Probe
	run docker run --runtime=krun --rm -v "$PWD/classes:/app:ro" kontainapp/runenv-java -cp /app Probe
	assert_success
	local version
	version=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' kontainapp/runenv-java)
	assert_output --regexp "^$version threads 120 crc 4107517302 child \[openjdk version \"$version\" .*\] 0 cas>100 true tls TLSv1\.3 clock true$"
	# The same answers as Debian's JRE on the host, but for the version.
	local native
	native=$(java -cp classes Probe)
	assert_equal "$(echo "$output" | sed 's/\(child \[\).*\]/\1]/; s/^[^ ]* //')" \
		"$(echo "$native" | sed 's/\(child \[\).*\]/\1]/; s/^[^ ]* //')"
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

@test "runenv-node's and runenv-java's images: the entrypoint runs the runtime, labels name every Debian package" {
	run docker image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Env}}' kontainapp/runenv-node:18
	assert_output '["/usr/local/bin/node"] ["PATH=/usr/local/bin:/usr/bin:/bin","LANG=C.UTF-8"]'
	run docker image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Env}}' kontainapp/runenv-java:17
	assert_output '["/usr/local/bin/java"] ["PATH=/usr/local/bin:/usr/bin:/bin","LANG=C.UTF-8","JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64"]'
	run docker image inspect -f '{{index .Config.Labels "com.kontain.sources"}}' kontainapp/runenv-node
	assert_output --regexp "^nodejs=18\.20\.4\+dfsg-1~deb12u[0-9]+ libnode108=18\.20\.4.* libc6=2\.36-"
	run docker image inspect -f '{{index .Config.Labels "com.kontain.sources"}} {{index .Config.Labels "com.kontain.sdk.version"}}' \
		kontainapp/runenv-java
	assert_output --regexp "^openjdk-17-jre-headless=17\.0\.[0-9.]+\+.* libc6=2\.36-.* $(cat "$REPO/VERSION")$"
	# Every library the programs need is in the image: ld.so's own account, under km.
	run docker run --runtime=krun --rm --entrypoint /lib64/ld-linux-x86-64.so.2 kontainapp/runenv-node --list /usr/bin/node
	assert_success
	refute_output --partial "not found"
	run docker images --format '{{.Tag}}' kontainapp/runenv-java
	assert_equal "$(echo "$output" | sort | paste -sd ' ')" "17 $(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' kontainapp/runenv-java) latest"
}

@test "the OCI archive loads with podman load, the layout copies with skopeo copy; both run with krun" {
	ran_directly "podman load and skopeo copy"
	run podman_ load -q -i "$REPO/$RUNENV_OUT/python/runenv-python.oci.tar"
	assert_success
	assert_output "Loaded image: docker.io/kontainapp/runenv-python:latest"
	run podman_ run --rm "${PODMAN_LIMITS[@]}" kontainapp/runenv-python -c 'print("podman", 6 * 7)'
	assert_success
	assert_output "podman 42"
	skopeo copy -q "oci:$REPO/$RUNENV_OUT/python/oci" \
		"containers-storage:[overlay@$ENGINES/podman+$ENGINES/podman-run]localhost/copied:1"
	run podman_ run --rm "${PODMAN_LIMITS[@]}" localhost/copied:1 -c 'print("skopeo", 6 * 7)'
	assert_output "skopeo 42"
}

@test "run without krun, each image says what to do: kontain-interp's one line, status 127" {
	local lang
	for lang in $LANGUAGES; do
		run -127 docker run --rm "kontainapp/runenv-$lang" --version
		assert_output "kontain-interp: cannot run km, /opt/kontain/lib/../bin/km: no such file (in a container, run it with the OCI runtime krun: docker run --runtime=krun)"
	done
}

# A user's app: a Dockerfile FROM runenv-LANG that copies in a small HTTP
# service (sdk-tests/programs/runenv: server.py, server.js, Server.java).
app_context() { # LANG
	local ctx=$BATS_TEST_TMPDIR/app-$1 file cmd
	mkdir -p "$ctx"
	case $1 in
	python) file=server.py cmd='"server.py", "8080"' ;;
	node) file=server.js cmd='"server.js", "8080"' ;;
	java) javac_ Server && file=Server.class cmd='"-cp", "/app", "Server", "8080"' ;;
	esac
	if [ "$1" = java ]; then
		cp classes/Server.class "$ctx/"
	else
		cp "$REPO/sdk-tests/programs/runenv/$file" "$ctx/"
	fi
	printf 'FROM kontainapp/runenv-%s\nCOPY %s /app/\nWORKDIR /app\nCMD [%s]\n' "$1" "$file" "$cmd" >"$ctx/Dockerfile"
	echo "$ctx"
}

# The app's server run natively (Debian's runtime) on PORT, in place of the caller: run it with &.
native_server() { # LANG PORT
	case $1 in
	python) exec /usr/bin/python3.11 "$REPO/sdk-tests/programs/runenv/server.py" "$2" ;;
	node) exec /usr/bin/node "$REPO/sdk-tests/programs/runenv/server.js" "$2" ;;
	java) exec /usr/bin/java -cp classes Server "$2" ;;
	esac
}

# Waits for "listening on" in CMD's output (docker logs ID, say).
wait_listening() { # CMD...
	for _ in $(seq 150); do
		"$@" 2>&1 | grep -q "listening on" && return 0
		sleep 0.2
	done
	fail "the server did not start: $("$@" 2>&1)"
}

# The service at PORT answers, and answers wrk without an error.
serves() { # PORT PATH
	run curl -sf "http://127.0.0.1:$1$2"
	assert_output "{\"path\": \"$2\", \"pid\": true}"
	run wrk -t2 -c8 -d2s --timeout 10s "http://127.0.0.1:$1/"
	assert_success
	refute_output --partial "Socket errors"
	refute_output --partial "Non-2xx"
	assert_output --regexp "[1-9][0-9]* requests in"
}

# LANG's app built by docker build, run with krun on PORT under wrk, stopped
# by docker stop: its status is the same server's, natively, on SIGTERM.
app_by_docker_build() { # LANG PORT
	local ctx id status native
	ctx=$(app_context "$1")
	docker build -q -t "kontain-$1-app:1" "$ctx" >/dev/null
	id=$(docker run --runtime=krun -d -p "127.0.0.1:$2:8080" "kontain-$1-app:1")
	wait_listening docker logs "$id"
	serves "$2" /hello
	docker stop -t 10 "$id" >/dev/null
	status=$(docker inspect -f '{{.State.ExitCode}}' "$id")
	docker rm "$id" >/dev/null
	native_server "$1" $(($2 + 1)) >native.log 2>&1 &
	local pid=$!
	wait_listening cat native.log
	kill -TERM "$pid"
	wait "$pid" && native=0 || native=$?
	assert_equal "$status" "$native"
}

@test "an app FROM runenv-python, built by docker build: http.server under wrk, docker stop ends it as natively" {
	app_by_docker_build python 18081
}

@test "an app FROM runenv-node, built by docker build: node's http under wrk, docker stop ends it as natively" {
	app_by_docker_build node 18083
}

@test "an app FROM runenv-java, built by docker build: com.sun.net.httpserver under wrk, docker stop ends it as natively" {
	app_by_docker_build java 18085
}

@test "the same apps built by buildah bud run with podman and krun" {
	ran_directly "buildah bud"
	local lang id port=18090
	for lang in $LANGUAGES; do
		podman_ load -q -i "$REPO/$RUNENV_OUT/$lang/runenv-$lang.oci.tar" >/dev/null
		buildah --root "$ENGINES/podman" --runroot "$ENGINES/podman-run" bud --isolation chroot -q \
			-t "kontain-$lang-app:2" "$(app_context "$lang")" >/dev/null
		id=$(podman_ run -d "${PODMAN_LIMITS[@]}" -p "127.0.0.1:$port:8080" "kontain-$lang-app:2")
		wait_listening podman_ logs "$id"
		serves "$port" "/buildah-$lang"
		podman_ rm -f "$id" >/dev/null
		port=$((port + 1))
	done
}

# docs/runenv.md's example of native code (sdk-tests/programs/runenv/native):
# a build stage FROM buildenv-python links MarkupSafe's C speedups and a C++
# module into python, which the app's image FROM runenv-python gets.
@test "an app with native code: a multi-stage Dockerfile links MarkupSafe's C speedups and a C++ module into python; it runs as natively" {
	local ctx=$BATS_TEST_TMPDIR/native suffix
	mkdir "$ctx"
	cp "$REPO"/sdk-tests/programs/runenv/native/* "$ctx/"
	tar -C "$ctx" -xzf "$REPO/build/tests/sources/markupsafe/markupsafe_2.1.2.orig.tar.gz"
	run docker build -q -t kontain-native-app:1 "$ctx"
	assert_success
	run docker run --runtime=krun --rm kontain-native-app:1
	assert_success
	assert_line "escape: markupsafe._speedups builtin_function_or_method"
	assert_line "greet: hello, kontain"
	# Natively: the same sources as extension modules of Debian's python3.11.
	suffix=$(python3.11 -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
	mkdir -p native
	cp -r "$ctx/MarkupSafe-2.1.2/src/markupsafe" native/
	gcc -shared -fPIC -O2 $(python3.11-config --includes) -o "native/markupsafe/_speedups$suffix" \
		"$ctx/MarkupSafe-2.1.2/src/markupsafe/_speedups.c"
	g++ -shared -fPIC -O2 $(python3.11-config --includes) -o "native/greet$suffix" "$ctx/greet.cpp"
	assert_equal "$output" "$(PYTHONPATH=native python3.11 "$ctx/app.py")"
	# The app's image is runenv-python's but for python and what the app added.
	run docker run --runtime=krun --rm --entrypoint sh kontain-native-app:1 -c \
		'ls /usr/local/lib/python3.11/dist-packages; python3 -c "import sys; print(sys.executable, \"greet\" in sys.builtin_module_names)"'
	assert_output "kontain-builtin-submodules.pth
kontain_builtin_submodules.py
markupsafe
pip.pth
/usr/local/bin/python3 True"
}

@test "kontain-python-link's bad input: one line that names the module and the fault, a failing status" {
	ran_directly "kontain-python-link's errors (its build stage runs natively)"
	local ctx=$BATS_TEST_TMPDIR/bad
	mkdir "$ctx"
	printf 'int nothing(void) { return 0; }\n' >"$ctx/none.c"
	printf 'broken(\n' >"$ctx/broken.c"
	link_() { # SETUP-LINE
		printf '%s\n' "$1" >"$ctx/Setup"
		run docker run --rm -v "$ctx:/src" kontainapp/buildenv-python:3.11 -c 'kontain-python-link -o /tmp/out /src/Setup 2>&1 | tail -n 1'
	}
	link_ "none none.c"
	assert_output "kontain-python-link: none: no function PyInit_none in its sources"
	link_ "gone gone.c"
	assert_output "kontain-python-link: gone: no source /src/gone.c"
	link_ "broken broken.c"
	assert_output "kontain-python-link: broken: /src/broken.c does not compile"
	link_ "_json none.c"
	assert_output "kontain-python-link: _json is already built into python"
	link_ "ok none.py"
	assert_output "kontain-python-link: ok: 'none.py' is neither a source (.c, .cc, .cpp, .cxx), an object, an archive nor a flag"
	link_ "*shared*"
	assert_output "kontain-python-link: /src/Setup: *shared*: km runs static programs; every module is built in"
	run docker run --rm -v "$ctx:/src" kontainapp/buildenv-python:3.11 -c 'kontain-python-link -o /tmp/out /src/Setup'
	assert_failure 1
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

@test "bad use of runenv-node and -java: a missing script or class, memory past docker run -m; each the runtime's own error" {
	run docker run --runtime=krun --rm kontainapp/runenv-node /app/missing.js
	assert_failure 1
	assert_line "Error: Cannot find module '/app/missing.js'"
	run /usr/bin/node /app/missing.js
	assert_failure 1
	assert_line "Error: Cannot find module '/app/missing.js'"
	run docker run --runtime=krun --rm kontainapp/runenv-java Missing
	assert_failure 1
	assert_output "$(java Missing 2>&1)"
	run docker run --runtime=krun --rm -m 128m kontainapp/runenv-node -e '
const kept = [Buffer.alloc(40 << 20)];
console.log("40 MiB: ok");
kept.push(Buffer.alloc(400 << 20));'
	assert_failure 1
	assert_line "40 MiB: ok"
	assert_line "RangeError: Array buffer allocation failed"
	javac_ Hog
	run docker run --runtime=krun --rm -m 128m -v "$PWD/classes:/app:ro" kontainapp/runenv-java -cp /app Hog
	assert_failure 1
	assert_line "16 MiB: ok"
	assert_line 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space'
	# The engine and the images are fine afterwards.
	run docker run --runtime=krun --rm kontainapp/runenv-node -p '"still " + "fine"'
	assert_output "still fine"
}

# CPython's own tests of the modules a service leans on: the test files of
# the image's source (the image leaves tests out), run in the image under krun
# and by Debian's python3.11 (the same release) natively; case by case, each
# difference is explained in sdk-tests/programs/runenv/regrtest-differences.
@test "CPython's regression tests pass in the image as natively, each difference explained" {
	ran_directly "CPython's regression tests"
	local modules=(test_json test_math test_os test_threading test_socket test_select test_subprocess test_ssl
		test_sqlite3 test_zlib test_time test_re test_unicode test_decimal)
	mkdir -p pkg out
	chmod 777 out
	cp -a "$("$REPO/runenv/python/prefix.sh")/work/python3.11/Lib/test" pkg/
	# No test may hang the suite; the vsock tests hang natively in accept on
	# hosts that have a vsock transport, and km offers no AF_VSOCK: both sides skip them.
	local regrtest=(-m test -j2 --timeout 600 --ignore '*VSOCK*')
	(cd out && PYTHONPATH="$BATS_TEST_TMPDIR/pkg" /usr/bin/python3.11 "${regrtest[@]}" --junit-xml native.xml \
		"${modules[@]}" >native.log 2>&1) || true
	# The host's network, with IPv6, as natively (docker's default network has none).
	py --network host -w /tmp -v "$PWD/pkg/test:/usr/local/lib/python3.11/test:ro" -v "$PWD/out:/out" kontainapp/runenv-python \
		"${regrtest[@]}" --junit-xml /out/image.xml "${modules[@]}" >out/image.log 2>&1 || true
	run "$REPO/sdk-tests/programs/runenv/regrtest-diff.py" out/native.xml out/image.xml \
		"$REPO/sdk-tests/programs/runenv/regrtest-differences"
	echo "$output" | sed 's/^/# /' >&3
	assert_success
	for module in "${modules[@]}"; do
		assert_line --regexp "^$module: natively [1-9][0-9]* run"
	done
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
	podman_ load -q -i "$REPO/$RUNENV_OUT/python/runenv-python.oci.tar" >/dev/null
	# The RUN step runs in a container of the OCI runtime named (not in a chroot).
	run buildah --root "$ENGINES/podman" --runroot "$ENGINES/podman-run" bud --isolation oci \
		--runtime "$KONTAIN/bin/krun" -q -t kontain-pip:1 ctx
	assert_success
	run podman_ run --rm "${PODMAN_LIMITS[@]}" kontain-pip:1
	# Debian's CPython installs under PREFIX/local (its posix_local scheme), on sys.path.
	assert_output "/usr/local/local/lib/python3.11/dist-packages/setuptools/__init__.py"
}
