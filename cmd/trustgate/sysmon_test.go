package main

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestWithSysmonSetting(t *testing.T) {
	for _, c := range []struct {
		env    []string
		want   []string
		change bool
	}{
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", "GODEBUG=" + sysmonSetting}, true},
		{[]string{"GODEBUG="}, []string{"GODEBUG=" + sysmonSetting}, true},
		{[]string{"GODEBUG=http2client=0", "HOME=/"}, []string{"GODEBUG=http2client=0," + sysmonSetting, "HOME=/"}, true},
		{[]string{"GODEBUG=schedtrace=0"}, []string{"GODEBUG=schedtrace=0"}, false},
		{[]string{"GODEBUG=gctrace=1,schedtrace=1000"}, []string{"GODEBUG=gctrace=1,schedtrace=1000"}, false},
	} {
		in := slices.Clone(c.env)
		got, change := withSysmonSetting(c.env)
		if change != c.change || !slices.Equal(got, c.want) {
			t.Errorf("withSysmonSetting(%q) = %q, %v; want %q, %v", in, got, change, c.want, c.change)
		}
		if !slices.Equal(c.env, in) {
			t.Errorf("withSysmonSetting changed its argument: %q", c.env)
		}
	}
}

// TestServeRunsWithSysmonSetting: `serve` re-executes itself once with the
// setting in GODEBUG, as the same process, and then serves.
func TestServeRunsWithSysmonSetting(t *testing.T) {
	g := startGateway(t)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(g.cmd.Process.Pid) + "/environ")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	var godebug []string
	for kv := range strings.SplitSeq(string(b), "\x00") {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			godebug = append(godebug, v)
		}
	}
	if len(godebug) != 1 || strings.Count(godebug[0], "schedtrace=") != 1 {
		t.Fatalf("serve runs with GODEBUG %q, want one entry with schedtrace set once", godebug)
	}
	if os.Getenv("GODEBUG") == "" && godebug[0] != sysmonSetting {
		t.Errorf("GODEBUG = %q, want %q", godebug[0], sysmonSetting)
	}
}
