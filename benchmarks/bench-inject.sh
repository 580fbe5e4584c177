#!/usr/bin/env bash
# bench-inject.sh: the SOAP injection suites, in interleaved rounds,
# summarised with benchstat.
#
#   BenchmarkInjectPaired      tokentrip, the rawtoken anchor and the copy, run in
#                              turn in every iteration: the ratios tokentrip/rawtoken
#                              and tokentrip/copy, with and without a Header
#   BenchmarkInjectNamespaces  35,000 namespace declarations against none: decls/plain
#   BenchmarkInject            each implementation on its own, with a Header
#   BenchmarkInjectNoHeader    the same, without one
#
# Each round runs all four suites once (`go test -count=1`), so that load on a
# shared machine spreads over all of them; benchstat then gives, for every
# figure, the median over the rounds and its 95% confidence interval.
#
# Usage: benchmarks/bench-inject.sh [rounds [benchtime]]   (default: 10 rounds, 0.5s)
# The raw results go to $OUT (default: a temporary file, named at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-10}
benchtime=${2:-0.5s}
out=${OUT:-$(mktemp --suffix=.bench-inject.txt)}

export PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v benchstat >/dev/null; then
  go install golang.org/x/perf/cmd/benchstat@latest
fi

: >"$out"
for i in $(seq "$rounds"); do
  echo "round $i/$rounds" >&2
  # The paired suites without -benchmem: their allocations would be those of
  # all the implementations together.
  go test -run='^$' -bench='^BenchmarkInject(Paired|Namespaces)$' \
    -count=1 -benchtime="$benchtime" ./benchmarks/ >>"$out"
  go test -run='^$' -bench='^BenchmarkInject(NoHeader)?$' -benchmem \
    -count=1 -benchtime="$benchtime" ./benchmarks/ >>"$out"
done

echo "## Ratios, paired within each iteration (BenchmarkInjectPaired)"
benchstat -filter '.name:InjectPaired' -row /header,/size "$out"
echo
echo "## 35,000 namespace declarations against none (BenchmarkInjectNamespaces)"
benchstat -filter '.name:InjectNamespaces' "$out"
echo
echo "## Each implementation on its own (BenchmarkInject, BenchmarkInjectNoHeader)"
benchstat -filter '.name:(Inject OR InjectNoHeader)' -row .name,/size \
  -col '/impl@(rawtoken tokentrip copy etree-full)' "$out"
echo "raw results: $out" >&2
