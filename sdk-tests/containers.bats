#!/usr/bin/env bats
# krun under real container engines: dockerd (Debian's docker.io, started
# here without systemd) with krun registered runs one test image with its
# default runtime, runc, and with krun, whose containers' processes run
# under km in their own VM.

# The image: static busybox and programs built by kontain-gcc.
make_image() {
	local root=$ENGINES/rootfs cmd
	mkdir -p "$root/bin" "$root/tmp" "$root/www"
	cp /bin/busybox "$root/bin/"
	for cmd in sh echo cat ls env pwd sleep head tr touch httpd test grep wc nproc; do
		ln -s busybox "$root/bin/$cmd"
	done
	cp "$(prog hello)" "$(prog http_server)" "$(prog alloc)" "$root/bin/"
	echo "served from a volume" >"$ENGINES/index.html"
	tar -C "$root" -c . | docker import - kontain-test:1 >/dev/null
}

setup_file() {
	load helpers
	load engines
	[ -e /dev/kvm ] || return 0 # each test skips, loudly
	ENGINES=$(mktemp -d /tmp/kontain-engines.XXXXXX)
	export ENGINES
	# krun as an engine might call it, with an option it lacks.
	start_dockerd "krun-bad={\"path\": \"$KONTAIN/bin/krun\", \"runtimeArgs\": [\"--no-such-flag\"]}"
	make_image
}

teardown_file() {
	load engines
	stop_engines
}

setup() {
	load helpers
	load engines
	need_kvm
}

# Runs the image with each runtime: the same stdout, stderr and status with
# krun as with runc.
same_as_runc() {
	run --separate-stderr docker run --rm "$@"
	local runc_status=$status runc_output=$output runc_stderr=$stderr
	run --separate-stderr docker run --runtime=krun --rm "$@"
	if [ "$status" != "$runc_status" ] || [ "$output" != "$runc_output" ] || [ "$stderr" != "$runc_stderr" ]; then
		printf 'runc (status %s):\n%s\nstderr:\n%s\nkrun (status %s):\n%s\nstderr:\n%s\n' \
			"$runc_status" "$runc_output" "$runc_stderr" "$status" "$output" "$stderr" | fail
	fi
}

@test "docker run --runtime=krun: the program's output and exit status, as with runc" {
	same_as_runc kontain-test:1 sh -c 'echo out; echo err >&2; exit 7'
	assert_equal "$status" 7
	assert_output "out"
	assert_equal "$stderr" "err"
	run docker run --runtime=krun --rm kontain-test:1 hello.km Docker
	assert_success
	assert_output "Hello, Docker!"
}

@test "-i stdin, -t a terminal, -e, -w, -v and --read-only behave as with runc" {
	run bash -c "printf 'line one\nline two\n' | /usr/bin/docker -H unix://$ENGINES/docker.sock run --runtime=krun --rm -i kontain-test:1 wc -l"
	assert_success
	assert_output --regexp "^ *2$"
	run docker run --runtime=krun --rm -t kontain-test:1 sh -c 'test -t 0 && test -t 1 && echo a terminal'
	assert_success
	assert_output --partial "a terminal"
	same_as_runc -e GREETING=hi -w /tmp -v "$ENGINES/index.html:/www/index.html:ro" --read-only \
		kontain-test:1 sh -c 'echo $GREETING in $(pwd); cat /www/index.html; touch /x 2>/dev/null || echo read-only'
	assert_output "hi in /tmp
served from a volume
read-only"
}

# A process's exe, seen from a chroot (the nested VM's tests run in one), has
# the chroot's path in front.
@test "the container's process runs in a VM: from the host, its init is km with /dev/kvm open" {
	local id pid
	id=$(docker run --runtime=krun -d kontain-test:1 sleep 30)
	pid=$(docker inspect -f '{{.State.Pid}}' "$id")
	run readlink "/proc/$pid/exe"
	assert_output --regexp "^(/[^/]+)*/opt/kontain/bin/km$"
	run ls -l "/proc/$pid/fd"
	assert_output --partial "/dev/kvm"
	# With runc, the same image's init is the program itself.
	id=$(docker run -d kontain-test:1 sleep 30)
	pid=$(docker inspect -f '{{.State.Pid}}' "$id")
	run readlink "/proc/$pid/exe"
	assert_output --regexp "^(/[^/]+)*/bin/busybox$"
}

@test "a detached server answers wrk on a published port; docker stop's SIGTERM ends it with its status" {
	local id
	id=$(docker run --runtime=krun -d -p 127.0.0.1:18080:8080 kontain-test:1 http_server.km 8080)
	for _ in $(seq 100); do
		docker logs "$id" 2>&1 | grep -q "listening on 8080" && break
		sleep 0.1
	done
	run wrk -t2 -c8 -d2s --timeout 10s http://127.0.0.1:18080/
	assert_success
	refute_output --partial "Socket errors"
	refute_output --partial "Non-2xx"
	run docker stop -t 10 "$id"
	assert_success
	run docker inspect -f '{{.State.ExitCode}}' "$id"
	assert_output 0
	run docker logs "$id"
	assert_line --regexp "^shut down after [1-9][0-9]* requests$"
}

@test "docker kill -s USR1 reaches the guest's handler; docker logs and docker restart" {
	local id
	id=$(docker run --runtime=krun -d kontain-test:1 \
		sh -c 'trap "echo got USR1" USR1; echo started; while true; do sleep 0.2; done')
	sleep 1
	docker kill -s USR1 "$id"
	sleep 1
	run docker logs "$id"
	assert_output "started
got USR1"
	docker restart -t 1 "$id"
	sleep 1
	run docker inspect -f '{{.State.Running}} {{.RestartCount}}' "$id"
	assert_output --regexp "^true "
	run docker logs "$id"
	assert_line --index 2 "started"
}

@test "docker exec runs its command under km, as a new process of the container" {
	local id exes
	id=$(docker run --runtime=krun -d kontain-test:1 sleep 60)
	run docker exec "$id" sh -c 'echo exec in $(pwd)'
	assert_success
	assert_output "exec in /"
	docker exec -d "$id" sleep 30
	# exec -d returns before runc's init has become km (slow in an emulated VM).
	for _ in $(seq 60); do
		exes=$(docker top "$id" -o pid | tail -n +2 | while read -r pid; do readlink "/proc/$pid/exe" || true; done)
		[ "$(grep -cE '^(/[^/]+)*/opt/kontain/bin/km$' <<<"$exes")" = 2 ] && [ "$(wc -l <<<"$exes")" = 2 ] &&
			break
		sleep 0.5
	done
	docker rm -f "$id" >/dev/null
	[ "$(grep -cE '^(/[^/]+)*/opt/kontain/bin/km$' <<<"$exes")" = 2 ] && [ "$(wc -l <<<"$exes")" = 2 ] ||
		fail "the container's processes are not two km: $exes"
}

@test "docker run -m 128m: the guest's allocations fail past its limit, exec's too; km and the container do not" {
	# docker's own warnings (a kernel without swap accounting) go to stderr.
	run --separate-stderr docker run --runtime=krun --rm -m 128m kontain-test:1 head -n 1 /proc/meminfo
	assert_success
	assert_output --regexp "^MemTotal: +1[0-9]{5} kB$"
	run --separate-stderr docker run --runtime=krun --rm -m 128m kontain-test:1 alloc.km 40 40 60
	assert_failure 1
	assert_output "40 MiB allocated and written
40 MiB allocated and written
malloc of 60 MiB failed"
	run --separate-stderr docker run --runtime=krun --rm -m 128m kontain-test:1 alloc.km 40 40
	assert_success
	local id
	id=$(docker run --runtime=krun -d -m 128m kontain-test:1 sleep 60)
	run --separate-stderr docker exec "$id" alloc.km 40 40 60
	assert_failure 1
	assert_line "malloc of 60 MiB failed"
	run docker exec "$id" echo still there
	assert_output "still there"
	docker rm -f "$id" >/dev/null
}

@test "docker run --cpuset-cpus: the guest sees the container's CPUs; km's threads run only on them" {
	local cpu=$(($(nproc) - 1)) id pid task
	same_as_runc --cpuset-cpus="$cpu" kontain-test:1 nproc
	assert_output 1
	id=$(docker run --runtime=krun -d --cpuset-cpus="$cpu" kontain-test:1 sleep 60)
	pid=$(docker inspect -f '{{.State.Pid}}' "$id")
	for task in /proc/"$pid"/task/*; do
		run grep Cpus_allowed_list "$task/status"
		assert_output --regexp "^Cpus_allowed_list:\s+$cpu$"
	done
	docker rm -f "$id" >/dev/null
}

@test "a missing program gets km's one line through docker, and no container is left" {
	run docker run --runtime=krun --rm kontain-test:1 no-such-program
	assert_failure
	assert_output --partial "km: cannot run 'no-such-program': no such file, here or in PATH"
	run docker ps -aq --filter ancestor=kontain-test:1 --filter status=created
	assert_output ""
}

@test "an engine passing an option krun lacks: its one line through docker and podman, no state left" {
	ran_directly "krun's check of the options engines pass"
	run docker run --runtime=krun-bad --rm --name krun-bad kontain-test:1 echo never
	assert_failure
	assert_output --partial "krun: unknown global option --no-such-flag"
	refute_output --partial never
	run docker ps -aq --filter name=krun-bad
	assert_output ""
	run find "$ENGINES/exec" -path '*runtime-krun-bad*' -name state.json
	assert_output ""
	tar -C "$ENGINES/rootfs" -c . | podman_ import - kontain-test:1 >/dev/null
	run podman_ --runtime-flag no-such-flag run --rm --name krun-bad kontain-test:1 echo never
	assert_failure
	assert_output --partial "krun: unknown global option --no-such-flag"
	refute_output --partial never
	run podman_ ps -aq --filter name=krun-bad
	assert_output ""
}

# A bundle for krun itself, as an engine makes one: busybox's sh in the test
# image's root, with runc's default config.
make_bundle() {
	local bundle
	bundle=$(mktemp -d "$BATS_TEST_TMPDIR/bundle.XXXXXX")
	(cd "$bundle" && runc spec)
	python3 - "$bundle/config.json" "$ENGINES/rootfs" "$@" <<'PY'
import json, sys
path, root, args = sys.argv[1], sys.argv[2], sys.argv[3:]
config = json.load(open(path))
config["root"]["path"] = root
config["process"]["terminal"] = False
if args == ["--no-process"]:
    del config["process"]
else:
    config["process"]["args"] = args
json.dump(config, open(path, "w"))
PY
	echo "$bundle"
}

@test "krun run of a bundle, without an engine: km runs the process, with runc's state under --root" {
	local bundle
	bundle=$(make_bundle sh -c 'echo from the bundle; exit 3')
	run krun --root "$BATS_TEST_TMPDIR/state" run --bundle "$bundle" t1
	assert_equal "$status" 3
	assert_output "from the bundle"
	run python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["process"]["args"][:2])' "$bundle/config.json"
	assert_output "['/opt/kontain/bin/km', '--']"
	run krun --version
	assert_success
	assert_line --index 0 --regexp "^krun version "
	assert_line --regexp "^runc version "
}

@test "bad bundles and hosts: one clear line from krun, in --log as JSON, status 1, no state left" {
	local bundle state=$BATS_TEST_TMPDIR/state log=$BATS_TEST_TMPDIR/log.json
	bundle=$(make_bundle --no-process)
	run krun --root "$state" --log "$log" --log-format json run --bundle "$bundle" t1
	assert_failure 1
	assert_output "krun: $bundle/config.json has no process: there is no program to run"
	run python3 -c 'import json, sys; l = json.loads(open(sys.argv[1]).readlines()[-1]); print(l["level"], l["msg"])' "$log"
	assert_output "error krun: $bundle/config.json has no process: there is no program to run"
	run krun --root "$state" run --bundle "$BATS_TEST_TMPDIR/nowhere" t1
	assert_failure 1
	assert_output --regexp "^krun: cannot read $BATS_TEST_TMPDIR/nowhere/config.json: .+"
	bundle=$(make_bundle sh -c true)
	run unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh krun --root "$state" run --bundle "$bundle" t1
	assert_failure 1
	assert_output "krun: /dev/kvm: does not exist: km needs KVM on this host"
	run krun --krun-runtime=/nonexistent/runc --root "$state" run --bundle "$bundle" t1
	assert_failure 1
	assert_output "krun: cannot run the OCI runtime /nonexistent/runc: No such file or directory"
	[ ! -e "$state/t1" ]
}

@test "podman run --runtime krun: output, status, stdin and km as the container's init" {
	ran_directly "podman"
	command -v podman >/dev/null || fail "podman is missing: make test installs it"
	tar -C "$ENGINES/rootfs" -c . | podman_ import - kontain-test:1 >/dev/null
	run podman_ run --rm "${PODMAN_LIMITS[@]}" kontain-test:1 sh -c 'echo in podman; exit 4'
	assert_equal "$status" 4
	assert_output "in podman"
	run bash -c "echo through stdin | CONTAINERS_CONF=$ENGINES/containers.conf podman --root $ENGINES/podman --runroot $ENGINES/podman-run --runtime krun run --rm -i ${PODMAN_LIMITS[*]} kontain-test:1 cat"
	assert_success
	assert_output "through stdin"
	local id pid
	id=$(podman_ run -d "${PODMAN_LIMITS[@]}" kontain-test:1 sleep 30)
	pid=$(podman_ inspect -f '{{.State.Pid}}' "$id")
	run readlink "/proc/$pid/exe"
	assert_output --regexp "^(/[^/]+)*/opt/kontain/bin/km$"
	podman_ rm -f "$id" >/dev/null
}

@test "containerd: ctr run --runc-binary krun of the same image, saved by docker; the CRI snippet loads" {
	ran_directly "containerd"
	local pid
	start_containerd
	docker save kontain-test:1 -o "$BATS_TEST_TMPDIR/image.tar"
	ctr_ images import "$BATS_TEST_TMPDIR/image.tar" >/dev/null
	run ctr_ run --rm --runc-binary "$KONTAIN/bin/krun" docker.io/library/kontain-test:1 c1 \
		sh -c 'echo in containerd; exit 6'
	assert_equal "$status" 6
	assert_equal "$output" "in containerd"
	run ctr_ run --rm docker.io/library/kontain-test:1 c2 sh -c 'echo in containerd; exit 6'
	assert_equal "$status" 6
	assert_equal "$output" "in containerd"
	ctr_ run -d --runc-binary "$KONTAIN/bin/krun" docker.io/library/kontain-test:1 c3 sleep 30
	pid=$(ctr_ task ls | awk '$1 == "c3" { print $2 }')
	run readlink "/proc/$pid/exe"
	assert_output --regexp "^(/[^/]+)*/opt/kontain/bin/km$"
	ctr_ task kill -s KILL c3
	for _ in $(seq 50); do
		ctr_ task rm c3 >/dev/null 2>&1 && break
		sleep 0.2
	done
	ctr_ container rm c3
	# The packages' snippet for containerd's CRI plugin (Kubernetes) loads, as the runc shim's krun.
	cat "$ENGINES/containerd/config.toml" "$KONTAIN/share/kontain/containerd-krun.toml" >"$BATS_TEST_TMPDIR/cri.toml"
	run containerd --config "$BATS_TEST_TMPDIR/cri.toml" config dump
	assert_success
	assert_output --partial '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.krun]'
	assert_output --partial 'BinaryName = "/opt/kontain/bin/krun"'
}

# An application image: FROM the test image, a program built by kontain-gcc
# added, its entrypoint and environment set.
app_context() {
	local ctx=$BATS_TEST_TMPDIR/app
	mkdir -p "$ctx"
	cp "$(prog args_env)" "$ctx/"
	cat >"$ctx/Dockerfile" <<-'DOCKERFILE'
		FROM kontain-test:1
		COPY args_env.km /app/args_env.km
		ENV KM_TEST_IMAGE=app
		WORKDIR /app
		ENTRYPOINT ["/app/args_env.km"]
		CMD ["5", "from-cmd"]
	DOCKERFILE
	echo "$ctx"
}

@test "docker build and buildah bud of a Dockerfile FROM the image; the app runs with krun" {
	ran_directly "docker build and buildah bud"
	local ctx expected
	ctx=$(app_context)
	expected="argc=3
argv[0]=/app/args_env.km
argv[1]=5
argv[2]=from-cmd
env KM_TEST_IMAGE=app"
	docker build -q -t kontain-app:1 "$ctx" >/dev/null
	run docker run --runtime=krun --rm kontain-app:1
	assert_equal "$status" 5
	assert_output "$expected"
	tar -C "$ENGINES/rootfs" -c . | podman_ import - kontain-test:1 >/dev/null
	buildah --root "$ENGINES/podman" --runroot "$ENGINES/podman-run" bud --isolation chroot -q \
		-t kontain-app:1 "$ctx" >/dev/null
	run podman_ run --rm "${PODMAN_LIMITS[@]}" kontain-app:1
	assert_equal "$status" 5
	assert_output "$expected"
}

@test "krun install and uninstall docker and podman: idempotent, other settings kept, undone" {
	ran_directly "krun install and uninstall"
	local conf=$BATS_TEST_TMPDIR/daemon.json dropin=$BATS_TEST_TMPDIR/conf.d/krun.conf
	echo '{ "debug": true, "runtimes": { "other": { "path": "/usr/bin/runc" } } }' >"$conf"
	run krun install docker "$conf"
	assert_success
	assert_output "krun: the runtime krun is in $conf; restart dockerd to apply it"
	local once
	once=$(cat "$conf")
	krun install docker "$conf" >/dev/null
	assert_equal "$(cat "$conf")" "$once"
	run python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); print(c["debug"], sorted(c["runtimes"]), c["runtimes"]["krun"]["path"])' "$conf"
	assert_output "True ['krun', 'other'] $KONTAIN/bin/krun"
	krun uninstall docker "$conf" >/dev/null
	run python3 -c 'import json, sys; print(json.load(open(sys.argv[1])))' "$conf"
	assert_output "{'debug': True, 'runtimes': {'other': {'path': '/usr/bin/runc'}}}"
	rm "$conf"
	krun install docker "$conf" >/dev/null
	krun uninstall docker "$conf" >/dev/null
	[ ! -e "$conf" ]
	run krun install podman "$dropin"
	assert_success
	assert_output "krun: the runtime krun is in $dropin; use podman run --runtime krun"
	grep -qx "krun = \[\"$KONTAIN/bin/krun\"\]" "$dropin"
	krun uninstall podman "$dropin" >/dev/null
	[ ! -e "$dropin" ]
	echo '[broken' >"$conf"
	run krun install docker "$conf"
	assert_failure 1
	assert_output --regexp "^krun: $conf is not a JSON object"
	run krun install kubernetes
	assert_failure 2
	assert_output --partial "krun: install: no engine named 'kubernetes'"
}
