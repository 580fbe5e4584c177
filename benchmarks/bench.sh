#!/bin/sh
# bench.sh runs tokentrip's benchmark suites in interleaved rounds and summarises
# them with benchstat: every suite once per round, ten rounds by default, so that
# each ratio is taken between two measurements made side by side under the same
# load, and its spread shows how much the machine moved it.
#
# Usage: benchmarks/bench.sh [SUITE...]
#   SUITE   WarmPath, WarmPathPaired, Credentials, ConcurrentCalls or RefreshPoint
#           (default: all five)
#   ROUNDS  rounds to run (default 10; benchstat needs 6 for a confidence interval)
#   OUT     directory for the results (default benchmarks/results):
#             raw.txt        every round's go test -bench output
#             ratios.txt     per round: each implementation ÷ its anchor (benchmarks/ratios)
#             benchstat.txt  benchstat's summary of both: medians ± 95% confidence intervals
#
# It takes about five minutes on two cores. Run it on a machine as quiet as you can
# make it; the spread tells you how quiet it was.
set -eu
cd "$(dirname "$0")/.."

BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
ROUNDS=${ROUNDS:-10}
OUT=${OUT:-benchmarks/results}
SUITES=${*:-WarmPath WarmPathPaired Credentials ConcurrentCalls RefreshPoint}

# benchtime of each suite: long enough for a stable figure, short enough for ten rounds.
benchtime() {
	case $1 in
	WarmPath) echo 1s ;;           # ns/op of one request on a no-op base
	WarmPathPaired) echo 2s ;;     # the same, in alternation: ratios to the limit
	Credentials) echo 1x ;;        # one iteration builds and calls 1,000 or 10,000 credentials
	ConcurrentCalls) echo 5000x ;; # calls spread over 100 goroutines, after a warm-up
	RefreshPoint) echo 3x ;;       # each iteration runs 400 ms across refresh points
	*) echo "bench.sh: unknown suite $1" >&2; exit 2 ;;
	esac
}

# The ratios reported, per suite: SUITE=ANCHOR:UNIT[,UNIT…] (see benchmarks/ratios).
pairs() {
	case $1 in
	WarmPath) echo "-pair WarmPath=limit:ns/op" ;;
	Credentials) echo "-pair Credentials=oauth2:B/cred-before,B/cred-after" ;;
	ConcurrentCalls) echo "-pair ConcurrentCalls=oauth2:ns/op" ;;
	esac
}

mkdir -p "$OUT"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/benchmarks.test" ./benchmarks
go build -o "$bin/ratios" ./benchmarks/ratios

: >"$OUT/raw.txt"
for round in $(seq "$ROUNDS"); do
	for suite in $SUITES; do
		echo "round $round/$ROUNDS: $suite" >&2
		"$bin/benchmarks.test" -test.run='^$' -test.bench="^Benchmark$suite\$" \
			-test.benchmem -test.count=1 -test.benchtime="$(benchtime "$suite")" >>"$OUT/raw.txt"
	done
done

flags=""
for suite in $SUITES; do flags="$flags $(pairs "$suite")"; done
if [ -n "${flags# }" ]; then
	# shellcheck disable=SC2086 # the flags are meant to split
	"$bin/ratios" $flags <"$OUT/raw.txt" >"$OUT/ratios.txt"
else
	: >"$OUT/ratios.txt"
fi

{
	echo "# benchstat $OUT/raw.txt"
	go run "$BENCHSTAT" "$OUT/raw.txt"
	if [ -s "$OUT/ratios.txt" ]; then
		echo
		echo "# benchstat $OUT/ratios.txt (each ÷ its anchor, within each round)"
		go run "$BENCHSTAT" "$OUT/ratios.txt"
	fi
} | tee "$OUT/benchstat.txt"
