package awsapi

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	algorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat = "20060102T150405Z"
	maxSkew       = 15 * time.Minute
	maxPresign    = 7 * 24 * time.Hour

	emptySHA256              = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// sigV4 is what a request claims about its signature, header or query form.
type sigV4 struct {
	presigned     bool
	accessKeyID   string
	scopeDate     string // yyyymmdd
	region        string
	service       string
	signedHeaders []string
	signedRaw     string // as sent, ";"-joined
	signature     string // lowercase hex
	amzDate       string
	date          time.Time
	expires       time.Duration // presigned only
}

// scope is the credential scope string "date/region/service/aws4_request".
func (s *sigV4) scope() string {
	return s.scopeDate + "/" + s.region + "/" + s.service + "/aws4_request"
}

// hasSigV4 reports whether r carries any signature material at all.
func hasSigV4(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	q := r.URL.Query()
	return q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Algorithm")
}

// parseSigV4 reads the signature fields from the Authorization header or
// the presigned query. A nil *sigV4 with an error means the request is
// unusable; a non-nil one with an error still names the service to answer as.
func parseSigV4(r *http.Request) (*sigV4, *authError) {
	if h := r.Header.Get("Authorization"); h != "" {
		return parseHeader(r, h)
	}
	q := r.URL.Query()
	if q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Algorithm") {
		return parseQuery(q)
	}
	return nil, fail(failMissing, "no Authorization header or presigned query")
}

func parseHeader(r *http.Request, h string) (*sigV4, *authError) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return nil, fail(failUnsupported, "Unsupported authorization algorithm: only AWS4-HMAC-SHA256 is accepted.")
	}
	s := &sigV4{}
	var cred, signed, sig string
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	for _, m := range []struct{ name, val string }{{"Credential", cred}, {"SignedHeaders", signed}, {"Signature", sig}} {
		if m.val == "" {
			return nil, fail(failMalformed, fmt.Sprintf("Authorization header requires '%s' parameter.", m.name))
		}
	}
	if err := s.setCredential(cred); err != nil {
		return nil, err
	}
	s.signedRaw, s.signature = signed, sig
	s.signedHeaders = strings.Split(signed, ";")
	s.amzDate = r.Header.Get("X-Amz-Date")
	if err := s.check(); err != nil {
		return s, err
	}
	return s, nil
}

func parseQuery(q url.Values) (*sigV4, *authError) {
	s := &sigV4{presigned: true}
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return nil, fail(failUnsupported, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"").with("query", "1")
	}
	for _, name := range []string{"X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date"} {
		if q.Get(name) == "" {
			return nil, fail(failMalformed, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.").with("query", "1")
		}
	}
	if err := s.setCredential(q.Get("X-Amz-Credential")); err != nil {
		err.with("query", "1")
		return nil, err
	}
	s.signedRaw, s.signature = q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature")
	s.signedHeaders = strings.Split(s.signedRaw, ";")
	s.amzDate = q.Get("X-Amz-Date")
	exp := q.Get("X-Amz-Expires")
	if exp == "" {
		return s, fail(failMalformed, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.").with("query", "1")
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || n < 0 {
		return s, fail(failMalformed, "X-Amz-Expires should be a number").with("query", "1")
	}
	if time.Duration(n)*time.Second > maxPresign {
		return s, fail(failMalformed, "X-Amz-Expires must be less than a week (in seconds) that is 604800").with("query", "1")
	}
	s.expires = time.Duration(n) * time.Second
	if err := s.check(); err != nil {
		err.with("query", "1")
		return s, err
	}
	return s, nil
}

func (s *sigV4) setCredential(cred string) *authError {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] == "" {
		return fail(failMalformed, fmt.Sprintf("Credential should have exactly 5 slash-delimited elements, e.g. keyID/date/region/service/term, got '%s'", redactCredential(cred)))
	}
	if parts[4] != "aws4_request" {
		return fail(failMalformed, fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", parts[4]))
	}
	if len(parts[1]) != 8 {
		return fail(failMalformed, fmt.Sprintf("Invalid credential date %q.", parts[1]))
	}
	s.accessKeyID, s.scopeDate, s.region, s.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// redactCredential keeps a malformed credential's shape for the message
// without echoing anything that could be a secret pasted by mistake.
func redactCredential(c string) string {
	if len(c) > 64 {
		return c[:64] + "…"
	}
	return c
}

// check validates the fields that need no key: date, header list, signature shape.
func (s *sigV4) check() *authError {
	if s.amzDate == "" {
		return fail(failDate, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	d, err := time.Parse(amzDateFormat, s.amzDate)
	if err != nil {
		return fail(failDate, fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", truncate(s.amzDate, 32)))
	}
	s.date = d
	if s.scopeDate != s.amzDate[:8] {
		return fail(failMalformed, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from 'X-Amz-Date'.", s.scopeDate, s.amzDate[:8]))
	}
	if len(s.signature) != 64 || !isLowerHex(s.signature) {
		return fail(failSignature, "signature is not 64 hex digits")
	}
	hasHost := false
	for _, h := range s.signedHeaders {
		if h == "" || h != strings.ToLower(h) {
			return fail(failMalformed, "SignedHeaders must be lower-case header names separated by ';'.")
		}
		if h == "host" {
			hasHost = true
		}
	}
	if !hasHost {
		return fail(failMalformed, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkTime applies the 15-minute window (header form) or the presigned
// validity (query form) against now.
func (s *sigV4) checkTime(now time.Time) *authError {
	now = now.UTC()
	if s.presigned {
		if now.Before(s.date.Add(-maxSkew)) {
			return fail(failPresignExpired, fmt.Sprintf("request is not yet valid: %s is later than %s", s.amzDate, now.Format(amzDateFormat)))
		}
		expiry := s.date.Add(s.expires)
		if now.After(expiry) {
			return fail(failPresignExpired, fmt.Sprintf("%s is now earlier than %s", expiry.Format(amzDateFormat), now.Format(amzDateFormat))).
				with("X-Amz-Expires", strconv.FormatInt(int64(s.expires/time.Second), 10)).
				with("Expires", expiry.Format(time.RFC3339)).
				with("ServerTime", now.Format(time.RFC3339))
		}
		return nil
	}
	if d := now.Sub(s.date); d > maxSkew {
		return fail(failSkewed, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			s.amzDate, now.Add(-maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))).
			with("RequestTime", s.amzDate).with("ServerTime", now.Format(time.RFC3339)).with("MaxAllowedSkewMilliseconds", "900000")
	} else if d < -maxSkew {
		return fail(failSkewed, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			s.amzDate, now.Add(maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))).
			with("RequestTime", s.amzDate).with("ServerTime", now.Format(time.RFC3339)).with("MaxAllowedSkewMilliseconds", "900000")
	}
	return nil
}

// signs reports whether the lower-case header name is signed.
func (s *sigV4) signs(name string) bool {
	for _, h := range s.signedHeaders {
		if h == name {
			return true
		}
	}
	return false
}

// unsignedAmzHeaders lists x-amz-* headers present but not signed (S3
// refuses those on header-signed requests).
func (s *sigV4) unsignedAmzHeaders(h http.Header) []string {
	signed := make(map[string]bool, len(s.signedHeaders))
	for _, n := range s.signedHeaders {
		signed[n] = true
	}
	var out []string
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") && !signed[lk] {
			out = append(out, lk)
		}
	}
	return out
}

// verifySignature recomputes the request's signature with the AWS SDK's own
// signer over a copy of the request that holds exactly the signed headers,
// then compares in constant time. S3 signs the path as sent; the other
// services sign it escaped once more, and botocore also removes dot
// segments and empty segments first, so both spellings are tried.
func (s *sigV4) verifySignature(ctx context.Context, r *http.Request, creds Credentials, payloadHash string) *authError {
	rawPath := r.URL.EscapedPath()
	if i := strings.IndexByte(r.RequestURI, '?'); i >= 0 {
		rawPath = r.RequestURI[:i]
	} else if strings.HasPrefix(r.RequestURI, "/") {
		rawPath = r.RequestURI
	}
	paths := []string{rawPath}
	if s.service != "s3" {
		if n := normalizePath(rawPath); n != rawPath {
			paths = append(paths, n)
		}
	}
	var last *authError
	for _, p := range paths {
		got, signed, err := s.compute(ctx, r, creds, payloadHash, p)
		if err != nil {
			return fail(failSignature, "computing signature: "+err.Error())
		}
		if signed != s.signedRaw {
			last = fail(failSignature, fmt.Sprintf("signed headers %q cannot be reproduced (got %q)", s.signedRaw, signed))
			continue
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.signature)) == 1 {
			return nil
		}
		last = fail(failSignature, "signature mismatch")
	}
	return last
}

// compute returns the signature and signed-header list the SDK signer
// produces for r as the client would have signed it.
func (s *sigV4) compute(ctx context.Context, r *http.Request, creds Credentials, payloadHash, rawPath string) (sig, signedHeaders string, err error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: r.Host, Opaque: "//" + r.Host + rawPath}
	q := r.URL.Query()
	if s.presigned {
		q.Del("X-Amz-Signature")
	}
	u.RawQuery = q.Encode()
	req := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}
	req = req.WithContext(ctx)
	for _, h := range s.signedHeaders {
		switch h {
		case "host":
			continue
		case "content-length":
			cl := r.Header.Get("Content-Length")
			if cl == "" && r.ContentLength >= 0 {
				cl = strconv.FormatInt(r.ContentLength, 10)
			}
			n, perr := strconv.ParseInt(cl, 10, 64)
			if perr == nil {
				req.ContentLength = n
			}
			continue
		}
		if vals := r.Header.Values(h); len(vals) > 0 {
			req.Header[textproto.CanonicalMIMEHeaderKey(h)] = vals
		}
	}
	awsCreds := aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: string(creds.Secret)}
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = s.service == "s3"
		o.DisableHeaderHoisting = true
	})
	if s.presigned {
		signedURL, _, err := signer.PresignHTTP(ctx, awsCreds, req, payloadHash, s.service, s.region, s.date)
		if err != nil {
			return "", "", err
		}
		pu, err := url.Parse(signedURL)
		if err != nil {
			return "", "", err
		}
		pq := pu.Query()
		return pq.Get("X-Amz-Signature"), pq.Get("X-Amz-SignedHeaders"), nil
	}
	if err := signer.SignHTTP(ctx, awsCreds, req, payloadHash, s.service, s.region, s.date); err != nil {
		return "", "", err
	}
	auth := req.Header.Get("Authorization")
	for _, part := range strings.Split(strings.TrimPrefix(auth, algorithm+" "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Signature":
			sig = v
		case "SignedHeaders":
			signedHeaders = v
		}
	}
	return sig, signedHeaders, nil
}

// normalizePath is botocore's remove_dot_segments: drop "." and empty
// segments, resolve "..", keep leading and trailing slashes.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	res := strings.Join(out, "/")
	if strings.HasPrefix(p, "/") {
		res = "/" + res
	}
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		res += "/"
	}
	return res
}

// validContentSHA reports whether v is a payload hash form S3 accepts.
func validContentSHA(v string) bool {
	switch v {
	case unsignedPayload, streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
		return true
	}
	if len(v) != 64 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}
