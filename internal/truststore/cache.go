package truststore

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// chainCache remembers the chains crypto/x509 built for a client chain, so a
// client that reconnects (or resumes a session, which is re-verified) does
// not pay for the signature checks again. Only the time-independent part of
// verification is cached: signatures, CA and path constraints and key
// usage. Validity periods are checked again at every use, and when no cached
// chain is valid at that instant the full verification runs. Only chains
// crypto/x509 accepted are stored, under a hash of every certificate the
// client sent, so a cache entry can never widen what is trusted.
//
// The cache is bounded: entries go into a generation of at most
// chainCacheSize entries; a full generation is replaced by an empty one.
// Lookups and stores take no lock beyond sync.Map's.
type chainCache struct {
	gen atomic.Pointer[cacheGen]
}

const chainCacheSize = 1024

type cacheGen struct {
	m sync.Map // [32]byte -> [][]*x509.Certificate
	n atomic.Int64
}

func newChainCache() *chainCache {
	c := &chainCache{}
	c.gen.Store(&cacheGen{})
	return c
}

func chainKey(leaf *x509.Certificate, sent []*x509.Certificate) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, c := range append([]*x509.Certificate{leaf}, sent...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// get returns the cached chains for key that are valid at at, each starting
// with leaf, or nil.
func (c *chainCache) get(key [32]byte, leaf *x509.Certificate, at time.Time) [][]*x509.Certificate {
	v, ok := c.gen.Load().m.Load(key)
	if !ok {
		return nil
	}
	var out [][]*x509.Certificate
	for _, ch := range v.([][]*x509.Certificate) {
		if !validThroughout(ch, at) {
			continue
		}
		cp := append([]*x509.Certificate{leaf}, ch[1:]...)
		out = append(out, cp)
	}
	return out
}

func (c *chainCache) put(key [32]byte, chains [][]*x509.Certificate) {
	g := c.gen.Load()
	if g.n.Add(1) > chainCacheSize {
		c.gen.CompareAndSwap(g, &cacheGen{})
		g = c.gen.Load()
		g.n.Add(1)
	}
	// Store copies: the caller hands the originals out in verdicts.
	cp := make([][]*x509.Certificate, len(chains))
	for i, ch := range chains {
		cp[i] = slices.Clone(ch)
	}
	g.m.Store(key, cp)
}

func validThroughout(chain []*x509.Certificate, at time.Time) bool {
	for _, c := range chain {
		if at.Before(c.NotBefore) || at.After(c.NotAfter) {
			return false
		}
	}
	return true
}
