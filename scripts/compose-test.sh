#!/usr/bin/env bash
# Runs docker-compose.yml on this machine's Docker engine and drills it:
#
#   scripts/compose-test.sh            (make compose-test)
#
# It builds the api, worker and redis images FROM scratch (make
# docker-scratch: nothing is pulled), brings the stack up with
# deploy/compose.test.yml under a project name of its own, with the API on a
# free 127.0.0.1 port, and runs the drills of deploy/composetest (scale the
# workers 1 -> 3, kill one mid-job, restart Redis, cut a worker off the
# network). Whatever happens it then removes the project's containers,
# network and volume. Every step has a time limit; the whole run takes a few
# minutes. On failure the containers' logs are printed first.
#
# Figures measured go to stdout and to $CRUNCH_COMPOSE_REPORT when it is set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'compose-test.sh: %s\n' "$*" >&2; }

for tool in go curl make; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		log "$tool is missing: install it (Debian: apt-get install -y $([[ $tool == go ]] && echo golang || echo "$tool")) and rerun"
		exit 1
	fi
done
if ! timeout 20 docker info >/dev/null 2>&1; then
	log 'no Docker engine answers `docker info`: nothing to test on'
	exit 1
fi
if command -v docker-compose >/dev/null 2>&1; then
	compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
	compose=(docker compose)
else
	log 'neither docker-compose nor the docker compose plugin is installed (Debian: apt-get install -y docker-compose)'
	exit 1
fi

repo=$(pwd)
export COMPOSE_PROJECT_NAME="crunchtest$$$RANDOM"
export COMPOSE_FILE="$repo/docker-compose.yml:$repo/deploy/compose.test.yml"
export COMPOSE_PATH_SEPARATOR=:
# A free port on loopback only, picked by Docker.
export CRUNCH_API_PORT=127.0.0.1:
# One chunk at a time per worker, so that a job's chunks spread over them.
export CRUNCH_WORKER_CONCURRENCY=1
# Warnings and errors only: the logs are printed when a drill fails.
export CRUNCH_LOG_LEVEL=${CRUNCH_LOG_LEVEL:-warn}
report=${CRUNCH_COMPOSE_REPORT:-$(mktemp "${TMPDIR:-/tmp}/crunch-compose-report.XXXXXX")}
export CRUNCH_COMPOSE_REPORT=$report

status=1
cleanup() {
	trap - EXIT INT TERM
	if ((status != 0)); then
		log "failed; the containers' last log lines:"
		timeout 60 "${compose[@]}" logs --no-color --tail 60 >&2 || true
	fi
	log "removing project $COMPOSE_PROJECT_NAME"
	timeout 120 "${compose[@]}" down -v --remove-orphans -t 5 >&2 ||
		log "docker-compose down failed: remove the project's containers by hand (label com.docker.compose.project=$COMPOSE_PROJECT_NAME)"
	exit "$status"
}
trap cleanup EXIT
trap 'status=130; exit 130' INT
trap 'status=143; exit 143' TERM

log 'building the images FROM scratch (make docker-scratch)'
timeout 900 nice -n 5 make --no-print-directory docker-scratch >&2

log "starting project $COMPOSE_PROJECT_NAME: redis, api, 1 worker"
timeout 180 "${compose[@]}" up -d --no-build --scale worker=1 >&2
addr=$(timeout 30 "${compose[@]}" port api 8080)
api="http://$addr"
for ((i = 0; i < 120; i++)); do
	if curl -fsS -m 2 -o /dev/null "$api/readyz" 2>/dev/null; then break; fi
	sleep 0.5
done
curl -fsS -m 2 -o /dev/null "$api/readyz" || { log "the API at $api did not get ready within 60 s"; exit 1; }
log "the API answers at $api"

CRUNCH_COMPOSE_TEST=1 CRUNCH_COMPOSE_API=$api CRUNCH_COMPOSE_CMD="${compose[*]}" \
	timeout 900 go test -count=1 -v -timeout 12m ./deploy/composetest/ && status=0 || status=$?
log 'figures:'
cat "$report"
