#!/usr/bin/env bash
# Times crunch's primes kernel beside primesieve and plots the medians:
#
#   scripts/bench-primes.sh [primesbench flags]
#   (default: -n 1e8,1e9,1e10 -threads 1,2 -reps 3 -png docs/img/primes-scaling.png)
#
# Installs primesieve (Debian package) with apt-get when it is missing and
# this runs as root; otherwise says what to install. See scripts/primesbench.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v primesieve >/dev/null 2>&1; then
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		echo "bench-primes: primesieve is missing: install it (apt-get install -y primesieve) and rerun" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 update
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 install -y --no-install-recommends primesieve
fi
if (($# == 0)); then
	set -- -n 1e8,1e9,1e10 -threads 1,2 -reps 3 -png docs/img/primes-scaling.png
fi
exec go run ./scripts/primesbench "$@"
