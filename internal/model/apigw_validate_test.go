package model

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]{10}$`)
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		id, err := NewID()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(id) {
			t.Fatalf("id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		for _, c := range id {
			counts[c]++
		}
	}
	// 20000 characters over 36 symbols: about 556 each; every symbol shows up.
	if len(counts) != 36 {
		t.Fatalf("only %d distinct characters", len(counts))
	}
	for c, n := range counts {
		if n < 400 || n > 720 {
			t.Errorf("character %q drawn %d times, want about 556", c, n)
		}
	}
}

func TestValidateDomainName(t *testing.T) {
	for _, ok := range []string{"api.example.com", "a.b", "*.example.com", "xn--bcher-kva.example", "a-b.example.com", strings.Repeat("a", 63) + ".com"} {
		if err := ValidateDomainName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, tc := range []struct{ name, msg string }{
		{"", "No Domain Name specified"},
		{"localhost", "at least two labels"},
		{"api..example.com", "empty label"},
		{"api.example.com.", "empty label"},
		{"-api.example.com", "hyphen"},
		{"api-.example.com", "hyphen"},
		{"API.example.com", "character 'A'"},
		{"a_b.example.com", "character '_'"},
		{"a.*.example.com", "character '*'"},
		{strings.Repeat("a", 64) + ".com", "longer than 63"},
		{strings.Repeat("abcd.", 51) + "com", "longer than 253"},
		{"example.123", "numeric"},
	} {
		err := ValidateDomainName(tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: error %v, want %q", tc.name, err, tc.msg)
		}
	}
}

func TestValidateBasePath(t *testing.T) {
	for _, ok := range []string{"c360", "v1.0", "a-b_c", "$x+y!*'()", "orders/v1/items"} {
		if err := ValidateBasePath(ok, true); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if err := ValidateBasePath(strings.Repeat("a", 300), false); err != nil {
		t.Errorf("300 characters: %v", err)
	}
	for _, tc := range []struct {
		key        string
		allowSlash bool
		msg        string
	}{
		{"", true, "must not be empty"},
		{strings.Repeat("a", 301), true, "longer than 300"},
		{"a b", true, "invalid character ' '"},
		{"a?b", true, "invalid character '?'"},
		{"é", true, "invalid character"},
		{"a/b", false, "API Gateway V1 doesn't support the slash character"},
		{"/a", true, "start or end with a slash"},
		{"a/", true, "start or end with a slash"},
		{"a//b", true, "empty segment"},
	} {
		err := ValidateBasePath(tc.key, tc.allowSlash)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: error %v, want %q", tc.key, err, tc.msg)
		}
	}
}

func TestValidatePathPart(t *testing.T) {
	for _, ok := range []string{"customer", "{customer-id}", "{proxy+}", "v1.0", "a_b"} {
		if err := ValidatePathPart(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "{}", "{+}", "a b", "a/b", "{a", "a}", "{a+b}", "a+", "{{a}}"} {
		if err := ValidatePathPart(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !IsGreedyPathPart("{proxy+}") || IsGreedyPathPart("{id}") || !IsParamPathPart("{id}") || IsParamPathPart("id") {
		t.Error("path part kinds")
	}
}

func TestCertificateCovers(t *testing.T) {
	c := Certificate{DomainName: "api.example.com", SANs: []string{"*.example.org", "API2.Example.com"}}
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"api.example.com", true},
		{"API.EXAMPLE.COM", true},
		{"api2.example.com", true},
		{"api.example.com.", true},
		{"a.example.org", true},
		{"example.org", false},
		{"a.b.example.org", false},
		{"*.example.org", true},
		{"*.example.com", false},
		{"other.example.com", false},
	} {
		if got := CertificateCovers(c, tc.host); got != tc.want {
			t.Errorf("covers %q = %v, want %v", tc.host, got, tc.want)
		}
	}
	if CertificateCovers(Certificate{SANs: []string{"*.com"}}, "example.com") {
		t.Error("*.com must not cover example.com")
	}
}

func TestParseCertificateARN(t *testing.T) {
	p, ok := ParseCertificateARN("arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555")
	if !ok || p.Region != "us-east-1" || p.Account != "111122223333" || p.ID != "11111111-2222-3333-4444-555555555555" {
		t.Fatalf("parsed %+v %v", p, ok)
	}
	for _, bad := range []string{"", "cert", "arn:aws:s3:::bucket", "arn:aws:acm:us-east-1:1:cert/x", "arn:aws:acm::1:certificate/x", "arn:aws:acm:r:1:certificate/", "arn:aws:acm:r:1:certificate/a/b"} {
		if _, ok := ParseCertificateARN(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestValidateStageName(t *testing.T) {
	for _, ok := range []string{"DEV", "prod_1", "v-2"} {
		if err := ValidateStageName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a.b", strings.Repeat("a", 129)} {
		if err := ValidateStageName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
