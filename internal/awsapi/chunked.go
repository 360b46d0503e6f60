package awsapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// chunkSigner chains aws-chunked chunk signatures from the seed (the
// request's own signature). The SDK has no public verifier for these, so
// this is the one hand-written piece of SigV4: the string to sign of
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
// sigv4-streaming-trailers.html.
type chunkSigner struct {
	key     []byte // derived signing key
	amzDate string
	scope   string
	prev    string // previous signature, hex
}

func newChunkSigner(secret string, s *sigV4) *chunkSigner {
	return &chunkSigner{
		key:     signingKey(secret, s.scopeDate, s.region, s.service),
		amzDate: s.amzDate,
		scope:   s.scope(),
		prev:    s.signature,
	}
}

// signingKey derives the SigV4 signing key.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// next checks one data chunk's signature and advances the chain.
func (c *chunkSigner) next(data []byte, got string) bool {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.amzDate + "\n" + c.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + sha256Hex(data)
	return c.accept(sts, got)
}

// trailer checks the trailer signature over the canonical trailer lines.
func (c *chunkSigner) trailer(canonical []byte, got string) bool {
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.amzDate + "\n" + c.scope + "\n" + c.prev + "\n" + sha256Hex(canonical)
	return c.accept(sts, got)
}

func (c *chunkSigner) accept(sts, got string) bool {
	want := hex.EncodeToString(hmacSHA256(c.key, sts))
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return false
	}
	c.prev = want
	return true
}

// decodeChunked decodes a whole aws-chunked body. With signer non-nil every
// chunk must carry a valid chunk-signature (and the trailer block a valid
// x-amz-trailer-signature when withTrailer). declared lists the trailer
// names X-Amz-Trailer announced; any other trailer is refused. The decoded
// data may not exceed limit.
func decodeChunked(raw []byte, signer *chunkSigner, withTrailer bool, declared []string, limit int) ([]byte, http.Header, *authError) {
	out := make([]byte, 0, len(raw))
	p := raw
	broken := func(what string) *authError { return fail(failIncompleteBody, "aws-chunked body: "+what) }
	for {
		line, rest, ok := cutLine(p)
		if !ok {
			return nil, nil, broken("chunk header without line end")
		}
		p = rest
		sizeHex, ext, _ := strings.Cut(line, ";")
		size, err := strconv.ParseUint(strings.TrimSpace(sizeHex), 16, 31)
		if err != nil {
			return nil, nil, broken("bad chunk size")
		}
		if uint64(len(p)) < size {
			return nil, nil, broken("chunk shorter than its size")
		}
		data := p[:size]
		p = p[size:]
		if signer != nil {
			sig, found := strings.CutPrefix(strings.TrimSpace(ext), "chunk-signature=")
			if !found {
				return nil, nil, fail(failSignature, "chunk without chunk-signature")
			}
			if !signer.next(data, sig) {
				return nil, nil, fail(failSignature, "chunk signature mismatch")
			}
		}
		if size == 0 {
			break
		}
		if len(out)+len(data) > limit {
			return nil, nil, fail(failTooLarge, "decoded body over limit")
		}
		out = append(out, data...)
		// Each data chunk ends with CRLF.
		switch {
		case bytes.HasPrefix(p, []byte("\r\n")):
			p = p[2:]
		case bytes.HasPrefix(p, []byte("\n")):
			p = p[1:]
		default:
			return nil, nil, broken("chunk data not followed by CRLF")
		}
	}
	trailers := http.Header{}
	if !withTrailer {
		// What is left is the final CRLF (some writers omit it).
		if len(bytes.TrimSpace(p)) != 0 {
			return nil, nil, broken("data after the final chunk")
		}
		return out, trailers, nil
	}
	allowed := map[string]bool{}
	for _, d := range declared {
		allowed[textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(d))] = true
	}
	var canonical bytes.Buffer
	var trailerSig string
	for len(p) > 0 {
		line, rest, ok := cutLine(p)
		if !ok {
			line, rest = strings.TrimSuffix(string(p), "\r"), nil
		}
		p = rest
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, found := strings.Cut(line, ":")
		if !found {
			return nil, nil, broken("bad trailer line")
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if k == "x-amz-trailer-signature" {
			trailerSig = v
			continue
		}
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if !allowed[ck] {
			return nil, nil, fail(failSignature, "trailer "+k+" was not declared in x-amz-trailer")
		}
		trailers.Add(ck, v)
		canonical.WriteString(k + ":" + v + "\n")
	}
	for d := range allowed {
		if trailers.Get(d) == "" {
			return nil, nil, broken("declared trailer " + strings.ToLower(d) + " missing")
		}
	}
	if signer != nil {
		if trailerSig == "" {
			return nil, nil, fail(failSignature, "missing x-amz-trailer-signature")
		}
		if !signer.trailer(canonical.Bytes(), trailerSig) {
			return nil, nil, fail(failSignature, "trailer signature mismatch")
		}
	}
	return out, trailers, nil
}

// cutLine splits off one line ending in LF (CR before it dropped).
func cutLine(p []byte) (string, []byte, bool) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return "", p, false
	}
	return strings.TrimSuffix(string(p[:i]), "\r"), p[i+1:], true
}

// crc64NVME is CRC-64/NVME (reflected polynomial of 0xad93d23594c93659),
// what S3 calls CRC64NVME.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checksumAlgorithms are the x-amz-checksum-* flavours S3 accepts.
var checksumAlgorithms = map[string]struct {
	name string
	new  func() hash.Hash
}{
	"x-amz-checksum-crc32":     {"CRC32", func() hash.Hash { return crc32.NewIEEE() }},
	"x-amz-checksum-crc32c":    {"CRC32C", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	"x-amz-checksum-crc64nvme": {"CRC64NVME", func() hash.Hash { return crc64.New(crc64NVME) }},
	"x-amz-checksum-sha1":      {"SHA1", sha1.New},
	"x-amz-checksum-sha256":    {"SHA256", sha256.New},
}

// Checksum returns the base64 S3 checksum of data for a header name such as
// "x-amz-checksum-crc32", and false for a name S3 does not define.
func Checksum(header string, data []byte) (string, bool) {
	alg, ok := checksumAlgorithms[strings.ToLower(header)]
	if !ok {
		return "", false
	}
	h := alg.new()
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), true
}

// verifyChecksums checks every x-amz-checksum-* value in h against data.
func verifyChecksums(h http.Header, data []byte) *authError {
	for k, vals := range h {
		lk := strings.ToLower(k)
		alg, ok := checksumAlgorithms[lk]
		if !ok || len(vals) == 0 {
			continue
		}
		want, _ := Checksum(lk, data)
		if vals[0] != want {
			return fail(failChecksum, fmt.Sprintf("The %s you specified did not match the calculated checksum.", alg.name))
		}
	}
	return nil
}
