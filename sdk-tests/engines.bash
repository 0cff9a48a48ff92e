# Container engines started by hand, each with its state under $ENGINES (a
# short path: sockets live under it), krun registered as a user registers it.
# Used by containers.bats and bench/table; KONTAIN is the installed SDK.

# Debian's client, which matches the daemon (another may come first on PATH).
docker() {
	/usr/bin/docker -H "unix://$ENGINES/docker.sock" "$@"
}

# Waits until CMD succeeds, TRIES times every SECONDS; else shows the
# daemon's LOG and fails.
wait_ready() { # LOG TRIES SECONDS CMD...
	local log=$1 tries=$2 seconds=$3
	shift 3
	for _ in $(seq "$tries"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep "$seconds"
	done
	cat "$log" >&2
	return 1
}

# dockerd from docker.io without systemd, krun registered by krun install
# docker into the daemon's own configuration file (not /etc/docker's).
# Extra runtimes come as NAME=JSON arguments.
start_dockerd() {
	krun install docker "$ENGINES/daemon.json" >/dev/null
	(($#)) && python3 - "$ENGINES/daemon.json" "$@" <<-'PY'
		import json, sys
		config = json.load(open(sys.argv[1]))
		for runtime in sys.argv[2:]:
		    name, spec = runtime.split("=", 1)
		    config["runtimes"][name] = json.loads(spec)
		json.dump(config, open(sys.argv[1], "w"))
	PY
	dockerd --config-file "$ENGINES/daemon.json" --data-root "$ENGINES/docker" \
		--exec-root "$ENGINES/exec" -H "unix://$ENGINES/docker.sock" --pidfile "$ENGINES/docker.pid" \
		>"$ENGINES/dockerd.log" 2>&1 3>&- &
	wait_ready "$ENGINES/dockerd.log" 120 0.5 docker info
}

ctr_() {
	ctr -a "$ENGINES/containerd/containerd.sock" "$@"
}

# containerd on its own, with the CRI plugin's defaults; images come from
# docker save.
start_containerd() {
	mkdir -p "$ENGINES/containerd"
	printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\n[grpc]\n  address = "%s"\n' \
		"$ENGINES/containerd" "$ENGINES/containerd" "$ENGINES/containerd/containerd.sock" \
		>"$ENGINES/containerd/config.toml"
	containerd --config "$ENGINES/containerd/config.toml" >"$ENGINES/containerd/log" 2>&1 3>&- &
	echo $! >"$ENGINES/containerd/pid"
	wait_ready "$ENGINES/containerd/log" 100 0.2 ctr_ version
}

# Podman with its own storage under ENGINES, and krun registered by krun
# install podman into the configuration file it reads. Root here may not
# raise its limits (no CAP_SYS_RESOURCE), so the containers' are given
# (PODMAN_LIMITS).
podman_() {
	[ -e "$ENGINES/containers.conf" ] || krun install podman "$ENGINES/containers.conf" >/dev/null
	CONTAINERS_CONF=$ENGINES/containers.conf \
		podman --root "$ENGINES/podman" --runroot "$ENGINES/podman-run" --runtime krun "$@"
}
PODMAN_LIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)

# Stops whatever runs under $ENGINES and removes it.
stop_engines() {
	[ -n "${ENGINES:-}" ] && [ -d "$ENGINES" ] || return 0
	if [ -e "$ENGINES/docker.pid" ]; then
		docker ps -aq | xargs -r /usr/bin/docker -H "unix://$ENGINES/docker.sock" rm -f >/dev/null 2>&1
		kill "$(cat "$ENGINES/docker.pid")" 2>/dev/null
		for _ in $(seq 100); do
			[ -e "$ENGINES/docker.pid" ] || break
			sleep 0.2
		done
	fi
	if [ -e "$ENGINES/containerd/pid" ]; then
		kill "$(cat "$ENGINES/containerd/pid")" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$(cat "$ENGINES/containerd/pid")" 2>/dev/null || break
			sleep 0.2
		done
	fi
	grep -o " $ENGINES/[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
	rm -rf "$ENGINES"
}
