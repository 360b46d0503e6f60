package edge

import (
	"errors"
	"net/url"
	"strings"
)

var errBadPath = errors.New("malformed request path")

// reqPath is a request path prepared for routing: split on "/" in its escaped
// form (so %2F stays inside its segment), each segment decoded, "." and ".."
// segments resolved (never above the root, whether written plainly or
// percent-encoded) and empty segments dropped. Routing only ever looks at
// this cleaned form, so ".." cannot climb out of a mapping.
type reqPath struct {
	// canon is the cleaned path without its leading "/": the segments
	// joined by "/", each with only "%" and "/" escaped. Mapping keys are
	// compared against its prefixes.
	canon string
	// ends[i] is the end offset in canon of segment i.
	ends []int
	// segs are the decoded segments.
	segs []string
	// simple is true when canon is a substring of the request's escaped
	// path (no escapes, no dot or empty segments): segments can then be
	// forwarded as they came.
	simple bool

	segBuf [16]string
	endBuf [16]int
}

// parse fills p from an escaped path (url.URL.EscapedPath).
func (p *reqPath) parse(escaped string) error {
	p.segs = p.segBuf[:0]
	p.ends = p.endBuf[:0]
	s := strings.TrimPrefix(escaped, "/")
	// Any escape means segments must be decoded and canon rebuilt.
	p.simple = strings.IndexByte(s, '%') < 0
	for start := 0; start <= len(s); {
		end := len(s)
		if j := strings.IndexByte(s[start:], '/'); j >= 0 {
			end = start + j
		}
		raw := s[start:end]
		start = end + 1
		if raw == "" {
			if end != len(s) {
				p.simple = false // "//": dropped, so canon differs from s
			}
			continue
		}
		seg := raw
		if !p.simple || strings.IndexByte(raw, '%') >= 0 {
			var err error
			if seg, err = url.PathUnescape(raw); err != nil {
				return errBadPath
			}
		}
		switch seg {
		case ".":
			p.simple = false
			continue
		case "..":
			p.simple = false
			if len(p.segs) > 0 {
				p.segs = p.segs[:len(p.segs)-1]
			}
			continue
		}
		p.segs = append(p.segs, seg)
		p.ends = append(p.ends, end)
	}
	if p.simple {
		p.canon = ""
		if n := len(p.ends); n > 0 {
			p.canon = s[:p.ends[n-1]]
		}
		return nil
	}
	// Slow path: rebuild the canonical form from the decoded segments.
	var b strings.Builder
	p.ends = p.ends[:0]
	for i, seg := range p.segs {
		if i > 0 {
			b.WriteByte('/')
		}
		writeCanon(&b, seg)
		p.ends = append(p.ends, b.Len())
	}
	p.canon = b.String()
	return nil
}

// writeCanon writes a decoded segment with "%" and "/" escaped.
func writeCanon(b *strings.Builder, seg string) {
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; c {
		case '%':
			b.WriteString("%25")
		case '/':
			b.WriteString("%2F")
		default:
			b.WriteByte(c)
		}
	}
}

// canonKey turns a configured mapping key ("orders/v1/items", "" for
// (none)) into the form reqPath.canon prefixes take.
func canonKey(key string) (string, int) {
	var b strings.Builder
	depth := 0
	for _, part := range strings.Split(key, "/") {
		if part == "" {
			continue
		}
		if depth > 0 {
			b.WriteByte('/')
		}
		writeCanon(&b, part)
		depth++
	}
	return b.String(), depth
}

// prefixEnd returns the end offset in canon of the first n segments.
func (p *reqPath) prefixEnd(n int) int {
	if n == 0 {
		return 0
	}
	return p.ends[n-1]
}

// escapedFrom returns segments [from:] joined by "/", each escaped for a URL
// path ("a/b%2Fc"), for substituting {proxy} into an integration URI.
func (p *reqPath) escapedFrom(from int) string {
	if from >= len(p.segs) {
		return ""
	}
	if p.simple {
		start := 0
		if from > 0 {
			start = p.ends[from-1] + 1
		}
		return p.canon[start:]
	}
	var b strings.Builder
	for i, seg := range p.segs[from:] {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(seg))
	}
	return b.String()
}

// decodedFrom returns segments [from:] decoded and joined by "/" (the value
// of a greedy path parameter as a string).
func (p *reqPath) decodedFrom(from int) string {
	if from >= len(p.segs) {
		return ""
	}
	if p.simple {
		return p.escapedFrom(from)
	}
	return strings.Join(p.segs[from:], "/")
}
