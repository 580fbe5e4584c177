package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRatiosPairResultsOfTheSameRound(t *testing.T) {
	raw := `goos: linux
BenchmarkWarmPath/tokentrip-2   	 2000000	       600 ns/op	     720 B/op	       3 allocs/op
BenchmarkWarmPath/oauth2-2      	 1000000	      1000 ns/op	     976 B/op	       7 allocs/op
BenchmarkWarmPath/limit-2       	 2000000	       500 ns/op	     720 B/op	       3 allocs/op
BenchmarkCredentials/n=1000/tokentrip-2 	1	 2.0e+08 ns/op	 1929 B/cred-after	 568.0 B/cred-before
BenchmarkCredentials/n=1000/oauth2-2    	1	 1.5e+08 ns/op	 1312 B/cred-after	 160.0 B/cred-before
BenchmarkZero/a-2    1    5 x/op
BenchmarkZero/base-2 1    0 x/op
PASS
goos: linux
BenchmarkWarmPath/tokentrip-2   	 2000000	       990 ns/op	     720 B/op	       3 allocs/op
BenchmarkWarmPath/oauth2-2      	 1000000	      1500 ns/op	     976 B/op	       7 allocs/op
BenchmarkWarmPath/limit-2       	 2000000	       900 ns/op	     720 B/op	       3 allocs/op
`
	cases := []struct {
		name  string
		pairs []string
		want  string
		err   string
	}{
		{"time to the limit, round by round", []string{"WarmPath=limit:ns/op"},
			"BenchmarkWarmPath/tokentrip 1 1.2 time÷limit\n" +
				"BenchmarkWarmPath/oauth2 1 2 time÷limit\n" +
				"BenchmarkWarmPath/tokentrip 1 1.1 time÷limit\n" +
				"BenchmarkWarmPath/oauth2 1 1.667 time÷limit\n", ""},
		{"two units, nested names", []string{"Credentials=oauth2:B/cred-before,B/cred-after"},
			"BenchmarkCredentials/n=1000/tokentrip 1 3.55 B/cred-before÷oauth2\n" +
				"BenchmarkCredentials/n=1000/tokentrip 1 1.47 B/cred-after÷oauth2\n", ""},
		{"a unit the results lack", []string{"WarmPath=limit:B/cred-after"}, "", "no B/cred-after"},
		{"an anchor missing from a round", []string{"Credentials=limit:ns/op"}, "", "no BenchmarkCredentials/n=1000/limit"},
		{"no result matches", []string{"Inject=copy:ns/op"}, "", "no result matched"},
		{"an anchor of 0", []string{"Zero=base:x/op"}, "", "x/op of BenchmarkZero/base is 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pairs []pair
			for _, s := range c.pairs {
				p, err := parsePair(s)
				if err != nil {
					t.Fatal(err)
				}
				pairs = append(pairs, p)
			}
			var out bytes.Buffer
			err := run(strings.NewReader(raw), &out, pairs)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != c.want {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), c.want)
			}
		})
	}
}

func TestParsePairRefusesMalformedPairs(t *testing.T) {
	for _, s := range []string{"", "WarmPath", "WarmPath=limit", "=limit:ns/op", "WarmPath=:ns/op", "WarmPath=limit:"} {
		if _, err := parsePair(s); err == nil {
			t.Errorf("parsePair(%q) accepted it", s)
		}
	}
}

func TestParseLine(t *testing.T) {
	cases := []struct {
		line string
		ok   bool
		name string
	}{
		{"BenchmarkX/a-2 	 100	 5.5 ns/op", true, "BenchmarkX/a"},
		{"BenchmarkX/n=1000/a-16 1 2 B/cred-after 3 B/cred-before", true, "BenchmarkX/n=1000/a"},
		{"BenchmarkX/a 100 5.5 ns/op", true, "BenchmarkX/a"},
		{"BenchmarkX/a-2 --- FAIL", false, ""},
		{"BenchmarkX/a-2 100 5.5", false, ""},
		{"ok  	github.com/x 1.2s", false, ""},
		{"goos: linux", false, ""},
	}
	for _, c := range cases {
		r, ok := parseLine(c.line)
		if ok != c.ok || r.name != c.name {
			t.Errorf("parseLine(%q) = %q, %t; want %q, %t", c.line, r.name, ok, c.name, c.ok)
		}
	}
}
