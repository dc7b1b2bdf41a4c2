#!/usr/bin/env bash
# Measures how a job's wall time scales from 1 to 2 worker processes, each
# with GOMAXPROCS=1 and CRUNCH_WORKER_CONCURRENCY=1, against a private
# redis-server and one api process (all on 127.0.0.1, nothing kept on disk).
#
#   scripts/bench-kernels-scaling.sh [rounds]     (default 3; ONLY=primes or
#                                                 ONLY=mandelbrot runs one job)
#
# For each job it alternates 1 and 2 workers for the given rounds and prints
# one line per run: kernel, workers, seconds from POST to "succeeded" (polled
# every 20 ms) and how many chunks each worker ran. Jobs: mandelbrot 4096×4096 at max_iter 1000 and primes below
# 10^10, both with their default chunk counts. Needs go, redis-server and
# curl (installs redis-server and curl with apt-get when run as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rounds=${1:-3}
log() { printf 'scaling: %s\n' "$*" >&2; }

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		log "missing: ${missing[*]}; install them and rerun"
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 update
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 install -y --no-install-recommends "${missing[@]}"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/crunch-scaling.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT

log "building api and worker"
go build -o "$dir/" ./api ./worker

free_port() {
	local p
	while :; do
		p=$((15000 + RANDOM % 17000))
		{ : 3<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null || { echo "$p"; return; }
	done
}
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
	--logfile "$dir/redis.log" </dev/null &
pids+=($!)
export REDIS_URL="redis://127.0.0.1:$rport/0"
aport=$(free_port)
CRUNCH_HTTP_ADDR="127.0.0.1:$aport" "$dir/api" 2>"$dir/api.log" &
pids+=($!)
base="http://127.0.0.1:$aport"
for _ in $(seq 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

# start_workers N starts N workers and sets workers to their pids.
workers=()
start_workers() {
	local i
	workers=()
	for ((i = 0; i < $1; i++)); do
		GOMAXPROCS=1 CRUNCH_WORKER_CONCURRENCY=1 CRUNCH_WORKER_ID="bench-$i" "$dir/worker" 2>>"$dir/worker.log" &
		workers+=($!)
	done
	sleep 1 # let them register with asynq
}
stop_workers() {
	local p
	for p in "${workers[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${workers[@]}"; do wait "$p" 2>/dev/null || true; done
	workers=()
}

# run_job BODY prints the seconds from submission to success.
run_job() {
	local t0 t1 id status
	t0=$(date +%s.%N)
	id=$(curl -fsS -d "$1" "$base/v1/jobs" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
	[[ -n $id ]] || { log "submission failed"; return 1; }
	while :; do
		status=$(curl -fsS "$base/v1/jobs/$id" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
		case $status in
		succeeded) break ;;
		failed | canceled) log "job $id $status"; return 1 ;;
		esac
		sleep 0.02
	done
	t1=$(date +%s.%N)
	# chunks per worker, e.g. "bench-0:5 bench-1:5"
	spread=$(curl -fsS "$base/v1/jobs/$id/chunks" | grep -o '"worker":"[^"]*"' | sort | uniq -c |
		awk '{ sub(/"worker":"/, "", $2); sub(/"$/, "", $2); printf "%s%s:%d", sep, $2, $1; sep = " " }')
	awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.3f", a - b }'
	printf '\t%s\n' "$spread"
}

jobs=(
	'mandelbrot|{"kernel":"mandelbrot","params":{"width":4096,"height":4096,"max_iter":1000}}'
	'primes|{"kernel":"primes","params":{"to":10000000000}}'
)
for ((r = 1; r <= rounds; r++)); do
	for j in "${jobs[@]}"; do
		[[ -n ${ONLY:-} && ${j%%|*} != "$ONLY" ]] && continue
		for n in 1 2; do
			start_workers "$n"
			printf '%s\t%d\t%s\n' "${j%%|*}" "$n" "$(run_job "${j#*|}")"
			stop_workers
		done
	done
done
