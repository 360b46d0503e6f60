package truststore

import (
	"bytes"
	"encoding/pem"
	"strings"
)

var (
	pemBegin = []byte("-----BEGIN ")
	pemEnd   = []byte("-----END ")
)

// pemBlock is one PEM block found by scanPEM.
type pemBlock struct {
	block *pem.Block // nil when the block is damaged
	index int        // 1-based position among all blocks
	line  int        // 1-based line of the BEGIN marker
	typ   string     // the type from the BEGIN line, when it could be read
}

// pemScan is the result of scanning PEM text.
type pemScan struct {
	blocks []pemBlock
	// outside counts non-whitespace bytes outside any block (openssl's
	// "subject=" lines, Bag Attributes, or garbage); outsideLine is the first
	// line holding one.
	outside     int
	outsideLine int
}

// scanPEM splits data into PEM blocks. Unlike looping over pem.Decode, which
// silently skips a block whose base64 is damaged or whose END line is missing,
// it reports every BEGIN marker as a block, damaged or not, so a truncated
// upload cannot quietly lose certificates. It runs in time linear in len(data).
func scanPEM(data []byte) pemScan {
	var s pemScan
	line, lineAt := 1, 0 // line number of offset lineAt
	lineOf := func(off int) int {
		line += bytes.Count(data[lineAt:off], []byte{'\n'})
		lineAt = off
		return line
	}
	outside := func(from, to int) {
		for i := from; i < to; i++ {
			switch data[i] {
			case ' ', '\t', '\r', '\n':
				continue
			}
			if s.outside == 0 {
				s.outsideLine = lineOf(i)
			}
			s.outside++
		}
	}
	pos := 0
	for pos < len(data) {
		rel := bytes.Index(data[pos:], pemBegin)
		if rel < 0 {
			outside(pos, len(data))
			break
		}
		start := pos + rel
		outside(pos, start)
		b := pemBlock{index: len(s.blocks) + 1, line: lineOf(start), typ: beginType(data[start:])}

		afterBegin := start + len(pemBegin)
		nextBegin := len(data)
		if i := bytes.Index(data[afterBegin:], pemBegin); i >= 0 {
			nextBegin = afterBegin + i
		}
		endRel := bytes.Index(data[afterBegin:nextBegin], pemEnd)
		if endRel < 0 {
			// No END before the next BEGIN (or the end of the data): damaged.
			s.blocks = append(s.blocks, b)
			pos = nextBegin
			continue
		}
		stop := afterBegin + endRel
		if nl := bytes.IndexByte(data[stop:], '\n'); nl >= 0 {
			stop += nl + 1
		} else {
			stop = len(data)
		}
		if blk, rest := pem.Decode(data[start:stop]); blk != nil && len(bytes.TrimSpace(rest)) == 0 {
			b.block = blk
			b.typ = blk.Type
		}
		s.blocks = append(s.blocks, b)
		pos = stop
	}
	return s
}

// beginType reads the type from a BEGIN line, or "" if the line is not
// well formed.
func beginType(data []byte) string {
	data = data[len(pemBegin):]
	if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
		data = data[:nl]
	}
	data = bytes.TrimRight(data, " \t\r")
	t, ok := bytes.CutSuffix(data, []byte("-----"))
	if !ok {
		return ""
	}
	return string(t)
}

// describeType names a PEM block type for a message. Only types that look
// like real PEM labels (upper-case letters, digits and spaces, at most 40) are
// echoed; anything else is described, never quoted.
func describeType(t string) string {
	if isSafeType(t) {
		return `a "` + t + `" PEM block`
	}
	return "a PEM block of an unrecognised type"
}

func isSafeType(t string) bool {
	if t == "" || len(t) > 40 || t[0] == ' ' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != ' ' {
			return false
		}
	}
	return true
}

func isPrivateKeyType(t string) bool { return strings.Contains(t, "PRIVATE KEY") }
