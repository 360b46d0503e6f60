package app

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"trustgate/internal/store"
)

// settleTimeout bounds how long a management write waits for this node's
// data plane and DNS server to serve it.
const settleTimeout = 2 * time.Second

// settle makes management writes read-your-writes on this node: after a
// request that may have changed state, the answer is held until every
// follower (the edge, the DNS server) serves the store's new revision, so a
// client that gets 2xx can rely on the change being live here. It gives up
// after settleTimeout; the followers still catch up on their own.
//
// Only non-GET/HEAD requests are held, and their answers are small, so
// buffering them is cheap. GETs (S3 downloads) stream as before.
func settle(next http.Handler, st store.Store, followers ...func() int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		before, _ := st.Revision(r.Context())
		bw := &bufferedWriter{header: w.Header()}
		next.ServeHTTP(bw, r)
		if rev, err := st.Revision(r.Context()); err == nil && rev > before {
			waitFollowers(r.Context(), rev, followers)
		}
		if bw.status == 0 {
			bw.status = http.StatusOK
		}
		w.WriteHeader(bw.status)
		w.Write(bw.body.Bytes())
	})
}

func waitFollowers(ctx context.Context, rev int64, followers []func() int64) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		caught := true
		for _, f := range followers {
			if f() < rev {
				caught = false
				break
			}
		}
		if caught {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// bufferedWriter holds a response until settle lets it go.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
