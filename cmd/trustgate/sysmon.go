package main

import (
	"slices"
	"strings"
)

// sysmonSetting is the GODEBUG setting `serve` runs with unless GODEBUG
// names schedtrace itself (GODEBUG=schedtrace=0 restores Go's default).
//
// Go's system monitor (sysmon, a runtime thread) goes into a deep sleep
// whenever every P is idle, and the next syscall wakes it into polling
// every 20 µs again (golang/go#18236). A gateway that is not saturated goes
// idle between bursts all the time, so on a keep-alive load sysmon woke
// 3,400 times a second, retook the P from syscalls and moved the work
// between threads; each of those is a context switch on the gateway's
// core. With a schedtrace period set, sysmon never takes the deep sleep and
// backs off to one wake-up per 10 ms: in case a of the side-by-side
// benchmark the wake-ups fell to 100/s, one thread did all the work, and
// the rate per core rose by about 10 % (docs/performance.md, round 4).
// The period is the largest the runtime takes (2^31-1 ms, 24.8 days), so
// the scheduler line that schedtrace prints comes at most once in that
// time (and at start on a host up for longer); a fatal crash also prints
// the scheduler's state.
const sysmonSetting = "schedtrace=2147483647"

// withSysmonSetting returns env with sysmonSetting added to GODEBUG (the
// first GODEBUG entry, the one the runtime reads), and false when GODEBUG
// already sets schedtrace: then there is nothing to change.
func withSysmonSetting(env []string) ([]string, bool) {
	for i, kv := range env {
		v, ok := strings.CutPrefix(kv, "GODEBUG=")
		if !ok {
			continue
		}
		for f := range strings.SplitSeq(v, ",") {
			if strings.HasPrefix(strings.TrimSpace(f), "schedtrace=") {
				return env, false
			}
		}
		out := slices.Clone(env)
		if v == "" {
			out[i] = "GODEBUG=" + sysmonSetting
		} else {
			out[i] = kv + "," + sysmonSetting
		}
		return out, true
	}
	return append(slices.Clone(env), "GODEBUG="+sysmonSetting), true
}
