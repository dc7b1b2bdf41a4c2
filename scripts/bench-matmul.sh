#!/usr/bin/env bash
# Benchmarks the matmul kernel's DGEMM against OpenBLAS (through numpy) in
# one run, interleaved, and prints medians, ranges and ratios.
#
#   scripts/bench-matmul.sh [rounds]            (default 5)
#
# Environment:
#   SIZES="512 1024 2048 4096"   matrix sizes n (n×n times n×n)
#   THREADS="1 2"                threads: GOMAXPROCS for crunch,
#                                OPENBLAS_NUM_THREADS for OpenBLAS
#   SERVICE=1                    also time seeded n=1024 and 2048 jobs
#                                through the service (internal/e2e
#                                BenchmarkMatmulJob, with a private
#                                redis-server) beside OpenBLAS
#   CSV=file                     where the raw figures go (default: a
#                                temporary file, named at the end)
#   OPENBLAS_CORETYPE            OpenBLAS 0.3.21 does not recognise every
#                                recent Intel core (it falls back to its
#                                slow Prescott kernels, ~4 GFLOPS): when
#                                unset, the script sets SkylakeX on CPUs
#                                with AVX-512, Haswell on those with AVX2
#
# Each round runs, for every n and thread count, crunch then OpenBLAS, so a
# change in the machine's load hits both. Every figure is the mean over a
# few products after one warm-up product; the summary gives per (n,
# threads) the median and range over rounds of wall-clock GFLOPS and of
# GFLOP per CPU-second (work over the process's user+system time, which
# is less sensitive to other processes on a shared machine), and the
# median of the per-round ratios crunch/OpenBLAS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'bench-matmul.sh: %s\n' "$*" >&2; }

rounds=${1:-5}
sizes=${SIZES:-512 1024 2048 4096}
threads=${THREADS:-1 2}
py=/usr/bin/python3

# numpy with OpenBLAS from Debian (as scripts/test.sh installs its tools).
if ! "$py" -c 'import numpy' 2>/dev/null; then
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		log "missing python3-numpy (with libopenblas0): install it and rerun"
		exit 1
	fi
	log "installing python3-numpy libopenblas0-pthread with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 update
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120 install -y --no-install-recommends python3-numpy libopenblas0-pthread
fi
if [[ -z ${OPENBLAS_CORETYPE:-} ]]; then
	if grep -qw avx512f /proc/cpuinfo; then
		export OPENBLAS_CORETYPE=SkylakeX
	elif grep -qw avx2 /proc/cpuinfo; then
		export OPENBLAS_CORETYPE=Haswell
	fi
fi

# reps is how many products one figure averages.
reps() {
	case $1 in
	512) echo 20 ;;
	1024) echo 6 ;;
	2048) echo 3 ;;
	*) echo 1 ;;
	esac
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
csv=${CSV:-$(mktemp --suffix=.csv)}
echo "impl,n,threads,round,gflops,gflops_per_cpu_s" >"$csv"

log "building the matmul test binary"
go test -c -o "$work/matmul.test" ./tasks/kernels/matmul

cat >"$work/anchor.py" <<'PY'
import sys, time
import numpy as np
n, reps = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(1)
a = rng.uniform(-1, 1, (n, n))
b = rng.uniform(-1, 1, (n, n))
a @ b  # warm-up
w0, c0 = time.perf_counter(), time.process_time()
for _ in range(reps):
    a @ b
w, c = time.perf_counter() - w0, time.process_time() - c0
flops = 2.0 * n ** 3 * reps
print("%.3f %.3f" % (flops / w / 1e9, flops / c / 1e9))
PY

for round in $(seq 1 "$rounds"); do
	for n in $sizes; do
		for t in $threads; do
			r=$(reps "$n")
			out=$("$work/matmul.test" -test.run '^$' -test.bench "^BenchmarkDGEMM\$/^n=$n\$" -test.cpu "$t" -test.benchtime "${r}x")
			g=$(awk '/GFLOPS/ { for (i = 1; i < NF; i++) { if ($(i+1) == "GFLOPS") w = $i; if ($(i+1) == "GFLOP/cpu-s") c = $i } } END { print w, c }' <<<"$out")
			echo "crunch,$n,$t,$round,${g% *},${g#* }" >>"$csv"
			g=$(OPENBLAS_NUM_THREADS=$t "$py" "$work/anchor.py" "$n" "$r")
			echo "openblas,$n,$t,$round,${g% *},${g#* }" >>"$csv"
			log "round $round n=$n threads=$t: $(tail -2 "$csv" | tr '\n' ' ')"
		done
	done
	if [[ ${SERVICE:-} == 1 ]]; then
		out=$(scripts/test.sh -count=1 -run '^$' -bench 'BenchmarkMatmulJob' -benchtime 2x ./internal/e2e 2>/dev/null)
		for n in 1024 2048; do
			g=$(awk -v n="$n" '$1 ~ "n="n"(-[0-9]+)?$" { for (i = 1; i < NF; i++) if ($(i+1) == "GFLOPS") print $i }' <<<"$out")
			echo "service,$n,2,$round,$g," >>"$csv"
			g=$(OPENBLAS_NUM_THREADS=2 "$py" "$work/anchor.py" "$n" "$(reps "$n")")
			echo "openblas,$n,2,$round,${g% *},${g#* }" >>"$csv"
			log "round $round service n=$n: $(tail -2 "$csv" | tr '\n' ' ')"
		done
	fi
done

"$py" - "$csv" <<'PY'
import csv, statistics, sys
from collections import defaultdict
rows = list(csv.DictReader(open(sys.argv[1])))
fig = defaultdict(dict)  # (impl, n, threads) -> round -> (wall, cpu)
for r in rows:
    cpu = float(r["gflops_per_cpu_s"]) if r["gflops_per_cpu_s"] else None
    fig[(r["impl"], int(r["n"]), int(r["threads"]))].setdefault(int(r["round"]), []).append((float(r["gflops"]), cpu))
def med(xs, f="%.1f"):
    xs = [x for x in xs if x is not None]
    return (f + " [" + f + "–" + f + "]") % (statistics.median(xs), min(xs), max(xs)) if xs else "—"
print("| impl | n | threads | GFLOPS wall, median [range] | GFLOP per CPU-s | ratio to OpenBLAS, wall (median of rounds) | ratio, per CPU-s |")
print("|---|---|---|---|---|---|---|")
for key in sorted(fig, key=lambda k: (k[1], k[2], k[0] != "crunch", k[0])):
    impl, n, t = key
    rs = fig[key]
    walls = [v[0] for rnd in rs.values() for v in rnd]
    cpus = [v[1] for rnd in rs.values() for v in rnd]
    ratio_w = ratio_c = "—"
    ref = fig.get(("openblas", n, t))
    if impl != "openblas" and ref:
        # OpenBLAS figures of a round in run order: the service round's
        # OpenBLAS runs come after the kernel benchmark's.
        pw, pc = [], []
        for rnd, vals in rs.items():
            o = ref.get(rnd)
            if not o:
                continue
            o = o[-1] if impl == "service" else o[0]
            pw.append(vals[0][0] / o[0])
            if vals[0][1] is not None:
                pc.append(vals[0][1] / o[1])
        ratio_w, ratio_c = med(pw, "%.2f"), med(pc, "%.2f")
    print("| %s | %d | %d | %s | %s | %s | %s |" % (impl, n, t, med(walls), med(cpus), ratio_w, ratio_c))
PY
log "raw figures: $csv (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})"
