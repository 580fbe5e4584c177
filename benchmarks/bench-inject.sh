#!/usr/bin/env bash
# bench-inject.sh: the SOAP injection suites (BenchmarkInject,
# BenchmarkInjectNoHeader, BenchmarkInjectNamespaces) in interleaved rounds,
# summarised with benchstat.
#
# Each round is one `go test -count=1` run of all three suites, so tokentrip
# and its anchors run back to back in every round and load on a shared
# machine falls on all of them alike. benchstat then gives each one's median
# with its 95% confidence interval, and tokentrip against the rawtoken
# anchor; the per-round ratios (median and range over the rounds) follow.
#
# Usage: benchmarks/bench-inject.sh [rounds [benchtime]]   (default 10 rounds, 1s)
# Raw results go to $OUT (default: a temporary file, named at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-10}
benchtime=${2:-1s}
out=${OUT:-$(mktemp --suffix=.bench-inject.txt)}

export PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v benchstat >/dev/null; then
  go install golang.org/x/perf/cmd/benchstat@latest
fi

: >"$out"
for i in $(seq "$rounds"); do
  echo "round $i/$rounds" >&2
  go test -run='^$' -bench='^BenchmarkInject(NoHeader|Namespaces)?$' -benchmem \
    -count=1 -benchtime="$benchtime" ./benchmarks/ >>"$out"
done

echo "## With a Header (BenchmarkInject) and without (BenchmarkInjectNoHeader)"
benchstat -filter '.name:(Inject OR InjectNoHeader)' -row .name,/size \
  -col '/impl@(rawtoken tokentrip copy etree-full)' "$out"
echo
echo "## 35,000 namespace declarations against none (BenchmarkInjectNamespaces)"
benchstat -filter '.name:InjectNamespaces' -col '/decls@(plain 35000)' "$out"
echo
echo "## Ratios within each round: median [min–max] over $rounds rounds"
awk '
  # BenchmarkInject/size=1KiB/impl=tokentrip-2  N  T ns/op ...
  /^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    split(name, part, "/")
    suite = part[1]; sub(/^Benchmark/, "", suite)
    key = part[2]; sub(/^(size|decls)=/, "", key)
    impl = part[3]; sub(/^impl=/, "", impl)
    if (suite == "InjectNamespaces") { impl = key; key = "1MiB" }
    round[suite, key, impl]++
    t[suite, key, impl, round[suite, key, impl]] = $3
    if (!((suite, key) in seen)) { seen[suite, key] = 1; order[++n] = suite SUBSEP key }
  }
  function ratio(suite, key, a, b, label,    i, j, k, r, m, x) {
    k = 0
    for (i = 1; (suite, key, a, i) in t && (suite, key, b, i) in t; i++) r[++k] = t[suite, key, a, i] / t[suite, key, b, i]
    if (k == 0) return
    for (i = 2; i <= k; i++) {  # insertion sort: POSIX awk has no asort
      x = r[i]
      for (j = i - 1; j >= 1 && r[j] > x; j--) r[j + 1] = r[j]
      r[j + 1] = x
    }
    m = (k % 2) ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2
    printf "%-18s %-6s %-26s %6.2f× [%.2f–%.2f] n=%d\n", suite, key, label, m, r[1], r[k], k
  }
  END {
    for (j = 1; j <= n; j++) {
      split(order[j], sk, SUBSEP)
      ratio(sk[1], sk[2], "tokentrip", "rawtoken", "tokentrip ÷ rawtoken")
      ratio(sk[1], sk[2], "tokentrip", "copy", "tokentrip ÷ copy")
      ratio(sk[1], sk[2], "etree-full", "tokentrip", "etree-full ÷ tokentrip")
      ratio(sk[1], sk[2], "35000", "plain", "35000 decls ÷ plain")
    }
  }' "$out"
echo
echo "raw results: $out" >&2
