package edge

import (
	"testing"
	"time"

	"trustgate/internal/model"
)

func TestLazyDeadline(t *testing.T) {
	base := time.Now()
	const slack = 100 * time.Millisecond
	for _, c := range []struct {
		name  string
		armed time.Time
		want  time.Duration // from base
		rearm bool
	}{
		{"nothing armed", time.Time{}, 0, true},
		{"armed at want", base, 0, false},
		{"armed within slack after want", base.Add(slack), 0, false},
		{"armed past the slack", base.Add(slack + 1), 0, true},
		{"armed before want", base, 1, true},
		{"a shorter timeout than the armed one", base.Add(time.Hour), 0, true},
	} {
		if got := lazyDeadline(c.armed, base.Add(c.want), slack); got != c.rearm {
			t.Errorf("%s: lazyDeadline = %v, want %v", c.name, got, c.rearm)
		}
	}
	if s := deadlineSlack(120 * time.Second); s != time.Second {
		t.Errorf("slack of 120s = %v, want the 1s cap", s)
	}
	if s := deadlineSlack(640 * time.Millisecond); s != 10*time.Millisecond {
		t.Errorf("slack of 640ms = %v, want 1/64", s)
	}
}

// TestLazyDeadlinesStillBound: with deadlines re-armed lazily, a short
// integration timeout still fires on a kept backend connection that many
// calls with a long timeout armed, and the idle timeout still closes a
// client connection that served many requests, no earlier than asked.
func TestLazyDeadlinesStillBound(t *testing.T) {
	const idle = 400 * time.Millisecond
	f := newSeedFlow(t, func(c *Config) {
		c.IdleTimeout = idle
		c.UpstreamTimeout = 10 * time.Second
	})
	hang := httpProxy(f.be.URL+"/hang", nil)
	hang.Integration.TimeoutInMillis = 200
	f.h.deploy("lazy", "L", false,
		resource("/ok", map[string]*model.Method{"GET": httpProxy(f.be.URL+"/ok", nil)}),
		resource("/hang", map[string]*model.Method{"GET": hang}))
	f.h.mapping("api.example.com", "lazy", "lazy", "L")
	w := (&wireFlow{seedFlow: f}).dial(t)

	conns := f.be.newConns.Load()
	for range 50 {
		w.send(wireGet("/lazy/ok"))
		if r := w.read("GET"); r.StatusCode != 200 {
			t.Fatalf("/lazy/ok: %v", r)
		}
	}
	if n := f.be.newConns.Load() - conns; n > 1 {
		t.Errorf("50 sequential calls opened %d backend connections, want one kept", n)
	}

	start := time.Now()
	w.send(wireGet("/lazy/hang"))
	r := w.read("GET")
	took := time.Since(start)
	if r.StatusCode != 504 {
		t.Fatalf("/lazy/hang with a 200ms timeout: %v, want 504", r)
	}
	if took < 200*time.Millisecond || took > 1500*time.Millisecond {
		t.Errorf("the 200ms integration timeout fired after %v", took)
	}

	w.send(wireGet("/lazy/ok"))
	if r := w.read("GET"); r.StatusCode != 200 {
		t.Fatalf("/lazy/ok after the timeout: %v", r)
	}
	start = time.Now()
	w.closed()
	if took := time.Since(start); took < idle || took > idle+deadlineSlack(idle)+time.Second {
		t.Errorf("idle connection closed after %v, want %v (+ at most %v)", took, idle, deadlineSlack(idle))
	}
}
