#!/usr/bin/env bash
# Runs every Go fuzz target for a short time, one after the other.
#
#   FUZZTIME=10s scripts/fuzz.sh [packages]    (default: ./...)
#
# go test -fuzz takes one target in one package at a time, so the targets are
# listed with `go test -list '^Fuzz'` first. An input that makes a target fail
# is written to that package's testdata/fuzz/<Target>/: commit it, and it runs
# as a regression test with every plain `go test` from then on.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME=${FUZZTIME:-10s}
log() { printf 'fuzz.sh: %s\n' "$*" >&2; }

if (($# == 0)); then
	set -- ./...
fi

# `go test -list` prints each package's matching names, then "ok <package> …".
listing=$(go test -list '^Fuzz' "$@")
targets=()
names=()
while IFS= read -r line; do
	case $line in
	Fuzz*) names+=("$line") ;;
	ok*)
		read -r _ pkg _ <<<"$line"
		for name in ${names[@]+"${names[@]}"}; do
			targets+=("$pkg $name")
		done
		names=()
		;;
	esac
done <<<"$listing"

if ((${#targets[@]} == 0)); then
	log "no fuzz targets in $*"
	exit 0
fi

log "${#targets[@]} fuzz targets, ${FUZZTIME} each"
failed=()
for target in "${targets[@]}"; do
	read -r pkg name <<<"$target"
	log "$name in $pkg"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"; then
		failed+=("$pkg $name")
	fi
done

if ((${#failed[@]} > 0)); then
	log "failed:"
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
log "all ${#targets[@]} fuzz targets passed"
