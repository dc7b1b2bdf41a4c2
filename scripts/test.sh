#!/usr/bin/env bash
# Runs `go test` against a private redis-server started for this run only.
#
#   scripts/test.sh [go test flags and packages]    (default: -race -count=1 ./...)
#
# On a fresh Debian/Ubuntu machine with only Go and make it installs what is
# missing first (as root; otherwise it says what to install and fails):
# redis-server, chromium for the dashboard's browser tests (not with
# CRUNCH_SKIP_BROWSER=1), and a C compiler when -race is asked for (the race
# detector needs cgo). It then starts redis-server on a free 127.0.0.1 port, keeping
# nothing on disk, exports CRUNCH_TEST_REDIS_URL for internal/redistest, runs
# go test, stops the server whatever happens, and exits with go test's code.
# Everything but go test's own output goes to stderr, so stdout can be saved
# (make bench does).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'test.sh: %s\n' "$*" >&2; }

# --- installing what is missing -------------------------------------------

# apt_get runs apt-get non-interactively, waiting for another apt or dpkg that
# holds the lock (an unattended upgrade, a parallel install).
apt_get() {
	local attempt
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		if DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 "$@"; then
			return 0
		fi
		log "apt-get $* failed (attempt $attempt of 10); retrying in 10 s"
		sleep 10
	done
	return 1
}

# ensure_tools installs redis-server and redis-sentinel (always: the fault
# drills start their own servers), primesieve (an anchor the primes kernel
# is checked against), chromium for the dashboard's browser
# tests (unless CRUNCH_SKIP_BROWSER=1) and a C compiler (only when $1 is
# "cc").
ensure_tools() {
	local need_cc=$1 missing=() cc
	command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
	# The Sentinel drills (internal/redistest) run Debian's redis-sentinel.
	command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
	# The primes kernel's counts are cross-checked against Debian's primesieve.
	command -v primesieve >/dev/null 2>&1 || missing+=(primesieve)
	if [[ ${CRUNCH_SKIP_BROWSER:-} != 1 ]] && ! command -v chromium >/dev/null 2>&1; then
		missing+=(chromium fonts-dejavu-core)
	fi
	if [[ $need_cc == cc ]]; then
		cc=$(go env CC)
		command -v "${cc%% *}" >/dev/null 2>&1 || missing+=(gcc libc6-dev)
	fi
	((${#missing[@]} == 0)) && return 0

	if [[ $(id -u) -ne 0 ]]; then
		log "missing: ${missing[*]}. Install them and rerun, for example:"
		log "  sudo apt-get install -y ${missing[*]}    (Debian, Ubuntu)"
		log "  brew install redis                       (macOS; a C compiler comes with Xcode)"
		exit 1
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		log "missing: ${missing[*]}, and there is no apt-get to install them with: install them and rerun"
		exit 1
	fi
	log "installing ${missing[*]} with apt-get"
	apt_get update
	apt_get install -y --no-install-recommends "${missing[@]}"
	hash -r
	if ! command -v redis-server >/dev/null 2>&1; then
		log "redis-server is installed but not on PATH ($PATH); Debian puts it in /usr/bin"
		exit 1
	fi
}

# --- the private redis-server ---------------------------------------------

REDIS_DIR=
REDIS_PID=

# port_in_use reports whether something accepts connections on 127.0.0.1:$1.
port_in_use() {
	{ : 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null
}

# redis_ready reports whether the redis-server with pid $2 answers on port $1
# and is ready (PING answers PONG, not LOADING). Checking the pid matters:
# another server may answer on a port that ours failed to bind. Plain bash: a
# fresh machine may have neither redis-cli nor python.
redis_ready() {
	local line pid= pong=
	{
		printf 'INFO server\r\nPING\r\n' >&3
		while read -r -t 1 line <&3; do
			line=${line%$'\r'}
			case $line in
			process_id:*) pid=${line#process_id:} ;;
			+PONG | -*)
				pong=$line
				break
				;;
			esac
		done
	} 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	[[ $pid == "$2" && $pong == +PONG ]]
}

stop_redis() {
	if [[ -n $REDIS_PID ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
		kill -TERM "$REDIS_PID" 2>/dev/null || true
		local i
		for ((i = 0; i < 100; i++)); do
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
	fi
	REDIS_PID=
	if [[ -n $REDIS_DIR ]]; then
		rm -rf "$REDIS_DIR"
		REDIS_DIR=
	fi
}

# start_redis starts redis-server on a free port and exports
# CRUNCH_TEST_REDIS_URL. Ports are drawn below Linux's ephemeral range
# (32768-60999); a port that another process takes first is retried.
start_redis() {
	REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/crunch-redis.XXXXXX")
	local attempt port i launcher=()
	# On Linux the kernel kills the server if this script dies without running
	# its traps (SIGKILL, a CI timeout).
	if setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then
		launcher=(setpriv --pdeathsig KILL --)
	fi
	for ((attempt = 1; attempt <= 20; attempt++)); do
		port=$((15000 + RANDOM % 17000))
		port_in_use "$port" && continue
		${launcher[@]+"${launcher[@]}"} redis-server --port "$port" --bind 127.0.0.1 --dir "$REDIS_DIR" \
			--save '' --appendonly no --daemonize no \
			--logfile "$REDIS_DIR/redis.log" </dev/null &
		REDIS_PID=$!
		echo "$REDIS_PID" >"$REDIS_DIR/redis.pid"
		for ((i = 0; i < 150; i++)); do
			kill -0 "$REDIS_PID" 2>/dev/null || break
			if redis_ready "$port" "$REDIS_PID"; then
				export CRUNCH_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
				log "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') (pid $REDIS_PID) at $CRUNCH_TEST_REDIS_URL"
				return 0
			fi
			sleep 0.1
		done
		if grep -q 'Address already in use' "$REDIS_DIR/redis.log" 2>/dev/null; then
			stop_redis_process
			continue
		fi
		log "redis-server did not start on port $port; its log:"
		cat "$REDIS_DIR/redis.log" >&2 2>/dev/null || true
		return 1
	done
	log "no free port for redis-server after 20 attempts"
	return 1
}

# stop_redis_process stops a failed attempt but keeps the directory.
stop_redis_process() {
	if [[ -n $REDIS_PID ]]; then
		kill -KILL "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
		REDIS_PID=
	fi
	: >"$REDIS_DIR/redis.log"
}

# --- main -------------------------------------------------------------------

if ! command -v go >/dev/null 2>&1; then
	log "go is not on PATH: install Go (go.mod names the version) and rerun"
	exit 1
fi
if (($# == 0)); then
	set -- -race -count=1 ./...
fi

need_cc=no
for arg in "$@"; do
	case $arg in
	-race | -race=true | --race | --race=true | -msan | -asan) need_cc=cc ;;
	esac
done
ensure_tools "$need_cc"

trap stop_redis EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

start_redis

status=0
go test "$@" || status=$?
exit "$status"
