#!/usr/bin/env bash
# Times the README's first command, `go run ./cmd/sia run --task demo
# --max-gen 6`, from an empty model cache (SIA_CACHE_DIR pointed at an empty
# folder: the base must be made) and again with that cache warm, both under
# `go run` (compile time counts) and as a prebuilt binary, with
# /usr/bin/time -v. Each run gets a fresh runs folder.
#
#   bench/firstrun.sh                 # go run with the Go build cache as it is, and the binary
#   COLD_GOCACHE=1 bench/firstrun.sh  # also go run with an empty Go build cache (a fresh machine:
#                                     # every dependency compiles; modules must be downloaded already)
#
# On a machine with more than CORES (default 2) CPUs everything is pinned to
# the first CORES with taskset. Prints one line per case and the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
CORES=${CORES:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pin=()
if [ "$(nproc)" -gt "$CORES" ] && command -v taskset >/dev/null; then
	pin=(taskset -c "0-$((CORES - 1))")
fi
args=(run --task demo --max-gen 6)
n=0

# measure LABEL CACHE_DIR COMMAND...: one timed run in a fresh runs folder.
measure() {
	local label=$1 cache=$2
	shift 2
	n=$((n + 1))
	if ! SIA_CACHE_DIR=$cache SIA_RUNS_DIR=$tmp/runs-$n /usr/bin/time -v -o "$tmp/time-$n" "${pin[@]}" "$@" >"$tmp/out-$n" 2>"$tmp/err-$n"; then
		echo "$label: failed" >&2
		cat "$tmp/err-$n" >&2
		exit 1
	fi
	awk -v label="$label" -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = (n == 3) ? p[1]*3600 + p[2]*60 + p[3] : p[1]*60 + p[2] }
		/User time/ { user = $2 } /System time/ { sys = $2 } /Maximum resident set size/ { rss = $2 / 1024 }
		END { printf "%-44s %8.1f %8.1f %8.1f %10.0f\n", label, wall, user, sys, rss }' "$tmp/time-$n"
	if grep -q "pretraining the demo base" "$tmp/err-$n"; then
		echo "  (pretrained the base: $(grep -c 'pretraining the demo base' "$tmp/err-$n") progress lines)"
	fi
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs, pinned to ${CORES}: ${pin[*]:-no}"
printf "%-44s %8s %8s %8s %10s\n" "case" "wall s" "user s" "sys s" "maxRSS MiB"
go build -o "$tmp/sia" ./cmd/sia # warms the Go build cache for the go run cases
if [ -n "${COLD_GOCACHE:-}" ]; then
	mkdir "$tmp/cache0"
	GOCACHE=$tmp/gocache measure "go run, empty Go build cache, empty model cache" "$tmp/cache0" go run ./cmd/sia "${args[@]}"
fi
mkdir "$tmp/cache1" "$tmp/cache2"
measure "go run, empty model cache" "$tmp/cache1" go run ./cmd/sia "${args[@]}"
measure "go run, warm model cache" "$tmp/cache1" go run ./cmd/sia "${args[@]}"
measure "binary, empty model cache" "$tmp/cache2" "$tmp/sia" "${args[@]}"
measure "binary, warm model cache" "$tmp/cache2" "$tmp/sia" "${args[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
