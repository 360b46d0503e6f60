package model

import (
	"errors"
	"fmt"
	"strings"
)

// Validation failures of API Gateway input. Each is an error whose message
// is a complete sentence a client may see (the management API answers it as
// BadRequestException).
var (
	errEmptyDomain   = errors.New("No Domain Name specified")
	errEmptyBasePath = errors.New("Base path must not be empty")
)

// Limits from the API Gateway documentation.
const (
	MaxDomainNameLength = 253
	MaxLabelLength      = 63
	MaxBasePathLength   = 300
	MaxStageNameLength  = 128
)

// ValidateDomainName checks a custom domain name: at most 253 characters,
// at least two dot-separated labels of 1 to 63 letters, digits or hyphens,
// no label starting or ending with a hyphen, and optionally a leading "*"
// label (a wildcard custom domain). The name must already be lower-case; no
// trailing dot.
func ValidateDomainName(name string) error {
	if name == "" {
		return errEmptyDomain
	}
	if len(name) > MaxDomainNameLength {
		return fmt.Errorf("Invalid domain name %q: longer than %d characters", name, MaxDomainNameLength)
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return fmt.Errorf("Invalid domain name %q: a domain name needs at least two labels", name)
	}
	for i, l := range labels {
		if l == "*" && i == 0 {
			continue
		}
		if err := validateLabel(l); err != nil {
			return fmt.Errorf("Invalid domain name %q: %s", name, err)
		}
	}
	if isAllDigits(labels[len(labels)-1]) {
		return fmt.Errorf("Invalid domain name %q: the top-level label cannot be numeric", name)
	}
	return nil
}

func validateLabel(l string) error {
	switch {
	case l == "":
		return errors.New("empty label")
	case len(l) > MaxLabelLength:
		return fmt.Errorf("label %q is longer than %d characters", l, MaxLabelLength)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("label %q starts or ends with a hyphen", l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("label %q has the character %q; only letters, digits and hyphens are allowed", l, c)
		}
	}
	return nil
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// basePathChars are the characters AWS allows in a base path (API mapping
// key) besides letters and digits.
const basePathChars = "$-_.+!*'()/"

// ValidateBasePath checks an API mapping key (v1 base path): letters, digits
// and $-_.+!*'()/ only, at most 300 characters, no leading, trailing or
// doubled slash. The empty key (the "(none)" mapping) is not validated here.
// allowSlash is false for the v1 API, which refuses multi-level keys with
// AWS's own message.
func ValidateBasePath(key string, allowSlash bool) error {
	if key == "" {
		return errEmptyBasePath
	}
	if len(key) > MaxBasePathLength {
		return fmt.Errorf("Base path is longer than %d characters", MaxBasePathLength)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune(basePathChars, rune(c)) {
			return fmt.Errorf("Base path %q contains the invalid character %q; only letters, digits and %s are allowed", key, c, basePathChars)
		}
	}
	if strings.Contains(key, "/") {
		if !allowSlash {
			return errors.New("API Gateway V1 doesn't support the slash character (/) in base path mappings. To create a multi-level base path mapping, use API Gateway V2.")
		}
		if strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, "//") {
			return fmt.Errorf("Base path %q cannot start or end with a slash or contain an empty segment", key)
		}
	}
	return nil
}

// errPathPart is AWS's own message for a bad resource path part.
var errPathPart = errors.New("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.")

// ValidatePathPart checks a resource path part: a literal of a-zA-Z0-9._-,
// a path parameter "{name}", or a greedy parameter "{name+}".
func ValidatePathPart(p string) error {
	name := p
	if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
		name = strings.TrimSuffix(p[1:len(p)-1], "+")
	}
	if name == "" {
		return errPathPart
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errPathPart
		}
	}
	return nil
}

// IsParamPathPart reports whether a path part is a path parameter ({x} or {x+}).
func IsParamPathPart(p string) bool {
	return strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}")
}

// IsGreedyPathPart reports whether a path part is a greedy parameter ({x+}).
func IsGreedyPathPart(p string) bool {
	return strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}")
}

// ValidateStageName checks a stage name: 1 to 128 letters, digits, hyphens
// or underscores.
func ValidateStageName(name string) error {
	if name == "" || len(name) > MaxStageNameLength {
		return fmt.Errorf("Stage name must be between 1 and %d characters", MaxStageNameLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return errors.New("Stage name only allows a-zA-Z0-9_-")
		}
	}
	return nil
}

// CertificateARN is the parsed form of arn:aws:acm:{region}:{account}:certificate/{id}.
type CertificateARN struct {
	Region, Account, ID string
}

// ParseCertificateARN parses an ACM certificate ARN.
func ParseCertificateARN(arn string) (CertificateARN, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "acm" || parts[3] == "" {
		return CertificateARN{}, false
	}
	id, ok := strings.CutPrefix(parts[5], "certificate/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return CertificateARN{}, false
	}
	return CertificateARN{Region: parts[3], Account: parts[4], ID: id}, true
}

// CertificateCovers reports whether a certificate is valid for the host
// name, by its subject alternative names and its common name, with RFC 6125
// wildcard rules: "*.example.com" covers exactly one extra leftmost label
// ("a.example.com", not "example.com" nor "a.b.example.com"). A wildcard
// host ("*.example.com", a wildcard custom domain) is covered only by the
// same wildcard. Comparison ignores case and a trailing dot.
func CertificateCovers(c Certificate, host string) bool {
	host = normName(host)
	names := append([]string{}, c.SANs...)
	if c.DomainName != "" {
		names = append(names, c.DomainName)
	}
	for _, n := range names {
		if nameMatches(normName(n), host) {
			return true
		}
	}
	return false
}

func normName(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".") }

func nameMatches(pattern, host string) bool {
	if pattern == "" || host == "" {
		return false
	}
	if pattern == host {
		return true
	}
	suffix, ok := strings.CutPrefix(pattern, "*.")
	if !ok || strings.HasPrefix(host, "*.") {
		return false
	}
	label, rest, ok := strings.Cut(host, ".")
	return ok && label != "" && rest == suffix && strings.Contains(suffix, ".")
}
