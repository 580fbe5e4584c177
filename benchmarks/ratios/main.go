// Command ratios turns benchmark results into ratios to an anchor taken within each
// round, for benchstat to summarise with their spread. Run against a file of several
// rounds of `go test -bench` output (bench.sh writes one), the k-th result of a
// benchmark is paired with the k-th result of its anchor, so that each ratio
// compares two measurements made side by side under the same load.
//
// Usage:
//
//	ratios -pair 'WarmPath=limit:ns/op' -pair 'Credentials=oauth2:B/cred-after' < raw.txt
//
// A pair SUITE=ANCHOR:UNIT[,UNIT…] divides, for every sub-benchmark of
// BenchmarkSUITE, each UNIT by the same UNIT of the sibling whose last name
// element is ANCHOR. Each ratio is written as a benchmark line of its own, with
// the unit UNIT÷ANCHOR (time÷ANCHOR for ns/op).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	var pairs pairFlags
	flag.Var(&pairs, "pair", "SUITE=ANCHOR:UNIT[,UNIT…] (repeatable)")
	flag.Parse()
	if len(pairs) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no -pair given")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout, pairs); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

// pair is one -pair flag.
type pair struct {
	suite, anchor string
	units         []string
}

type pairFlags []pair

func (p *pairFlags) String() string { return fmt.Sprint(*p) }

func (p *pairFlags) Set(s string) error {
	pr, err := parsePair(s)
	if err != nil {
		return err
	}
	*p = append(*p, pr)
	return nil
}

func parsePair(s string) (pair, error) {
	suite, rest, ok1 := strings.Cut(s, "=")
	anchor, units, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || suite == "" || anchor == "" || units == "" {
		return pair{}, fmt.Errorf("pair %q: want SUITE=ANCHOR:UNIT[,UNIT…]", s)
	}
	return pair{suite: suite, anchor: anchor, units: strings.Split(units, ",")}, nil
}

// result is one benchmark line: its name without the GOMAXPROCS suffix, and its
// values by unit.
type result struct {
	name   string
	values map[string]float64
}

// parseLine reads a benchmark result line; ok is false for any other line.
func parseLine(line string) (r result, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return result{}, false
	}
	if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
		return result{}, false
	}
	r = result{name: trimProcs(f[0]), values: map[string]float64{}}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return result{}, false
		}
		r.values[f[i+1]] = v
	}
	return r, true
}

// trimProcs drops the "-N" GOMAXPROCS suffix of a benchmark name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// run reads results from in and writes the ratios that pairs ask for to out, in
// the order the results came.
func run(in io.Reader, out io.Writer, pairs []pair) error {
	var results []result
	seen := map[string]int{} // occurrences so far, by name
	round := []int{}         // the round of each result: its occurrence number
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		r, ok := parseLine(sc.Text())
		if !ok {
			continue
		}
		round = append(round, seen[r.name])
		seen[r.name]++
		results = append(results, r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	byRound := map[string]map[int]result{}
	for i, r := range results {
		if byRound[r.name] == nil {
			byRound[r.name] = map[int]result{}
		}
		byRound[r.name][round[i]] = r
	}
	w := bufio.NewWriter(out)
	wrote := 0
	for i, r := range results {
		for _, p := range pairs {
			anchorName, ok := anchorOf(r.name, p)
			if !ok {
				continue
			}
			a, ok := byRound[anchorName][round[i]]
			if !ok {
				return fmt.Errorf("%s: no %s in the same round", r.name, anchorName)
			}
			for _, u := range p.units {
				v, ok1 := r.values[u]
				d, ok2 := a.values[u]
				if !ok1 || !ok2 {
					return fmt.Errorf("%s: no %s to divide", r.name, u)
				}
				if d == 0 {
					return fmt.Errorf("%s: %s of %s is 0", r.name, u, anchorName)
				}
				fmt.Fprintf(w, "%s 1 %.4g %s÷%s\n", r.name, v/d, ratioUnit(u), p.anchor)
				wrote++
			}
		}
	}
	if wrote == 0 {
		return errors.New("no result matched a pair")
	}
	return w.Flush()
}

// ratioUnit names the ratio of a unit: "time" for ns/op, which benchstat would
// otherwise read as nanoseconds and scale; the unit itself for the rest.
func ratioUnit(u string) string {
	if u == "ns/op" {
		return "time"
	}
	return u
}

// anchorOf returns the name of the anchor that name is divided by under p, if name
// is one of p's suite's sub-benchmarks other than the anchor.
func anchorOf(name string, p pair) (string, bool) {
	rest, ok := strings.CutPrefix(name, "Benchmark"+p.suite+"/")
	if !ok {
		return "", false
	}
	dir, last := "", rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		dir, last = rest[:i+1], rest[i+1:]
	}
	if last == p.anchor {
		return "", false
	}
	return "Benchmark" + p.suite + "/" + dir + p.anchor, true
}
