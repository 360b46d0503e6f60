package truststore

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"
)

// attributeNames are the short names RFC 2253 (and OpenSSL's RFC2253 output)
// use for distinguished-name attributes. Anything else is printed as a dotted
// OID with a hex-encoded value, as RFC 2253 section 2.4 requires.
var attributeNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.17":                   "POSTALCODE",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
}

// DNString renders a distinguished name in RFC 2253 form, most specific
// attribute first, e.g. "CN=partner-1,O=Partner Ltd". For a parsed certificate
// the attributes keep the order they have in the certificate (like
// `openssl x509 -nameopt RFC2253`), so the result is stable for a given
// certificate. Special characters are backslash-escaped and control characters
// or invalid UTF-8 are hex-escaped (\0A), so the result is safe to put in a log
// line or a JSON string. It is the form used for subjectDN and issuerDN.
func DNString(name pkix.Name) string {
	var atvs []pkix.AttributeTypeAndValue
	if len(name.Names) > 0 && len(name.ExtraNames) == 0 {
		// Names holds every attribute in certificate order; RFC 2253 prints
		// them in reverse.
		atvs = make([]pkix.AttributeTypeAndValue, 0, len(name.Names))
		for i := len(name.Names) - 1; i >= 0; i-- {
			atvs = append(atvs, name.Names[i])
		}
	} else {
		rdns := name.ToRDNSequence()
		for i := len(rdns) - 1; i >= 0; i-- {
			atvs = append(atvs, rdns[i]...)
		}
	}
	var b strings.Builder
	for i, atv := range atvs {
		if i > 0 {
			b.WriteByte(',')
		}
		writeATV(&b, atv)
	}
	return b.String()
}

func writeATV(b *strings.Builder, atv pkix.AttributeTypeAndValue) {
	oid := atv.Type.String()
	typ, known := attributeNames[oid]
	s, isString := atv.Value.(string)
	if !known || !isString {
		b.WriteString(oid)
		b.WriteString("=#")
		der, err := asn1.Marshal(atv.Value)
		if err != nil {
			// Not representable; say so rather than guess.
			b.WriteString("00")
			return
		}
		b.WriteString(hex.EncodeToString(der))
		return
	}
	b.WriteString(typ)
	b.WriteByte('=')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(b, "\\%02X", s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, "\\%02X", r)
		case r == ',' || r == '+' || r == '"' || r == '\\' || r == '<' || r == '>' || r == ';':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '#' && i == 0:
			b.WriteString("\\#")
		case r == ' ' && (i == 0 || i+size == len(s)):
			b.WriteString("\\ ")
		default:
			b.WriteRune(r)
		}
		i += size
	}
}

// SerialHex renders a certificate serial number as lower-case, colon-separated
// hex bytes ("0a:1b:2c"), the form AWS uses for clientCert.serialNumber. Zero is
// "00"; a negative serial (invalid, but parseable) gets a leading "-".
func SerialHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	raw := n.Bytes()
	if len(raw) == 0 {
		raw = []byte{0}
	}
	var b strings.Builder
	if n.Sign() < 0 {
		b.WriteByte('-')
	}
	for i, c := range raw {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex.EncodeToString([]byte{c}))
	}
	return b.String()
}

// OpenSSLTime renders t like OpenSSL's notBefore/notAfter output and AWS's
// clientCert.validity fields: "Jan  2 15:04:05 2006 GMT" (UTC, day padded
// with a space).
func OpenSSLTime(t time.Time) string {
	return t.UTC().Format("Jan _2 15:04:05 2006 GMT")
}

// Fingerprint returns the lower-case hex SHA-256 of the certificate's DER
// encoding, the identifier used in access logs.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// label names a certificate for messages: its subject DN, or its serial when
// the subject is empty. It is quoted and cut to a readable length because a
// client controls the subject of the certificate it sends.
func label(c *x509.Certificate) string {
	return quoteName(DNString(c.Subject), c.SerialNumber)
}

// issuerLabel names the issuer of c the same way.
func issuerLabel(c *x509.Certificate) string {
	return quoteName(DNString(c.Issuer), nil)
}

const maxLabel = 200

func quoteName(dn string, serial *big.Int) string {
	if dn == "" {
		if serial != nil {
			return "with empty subject and serial " + SerialHex(serial)
		}
		return `""`
	}
	if len(dn) > maxLabel {
		cut := maxLabel
		for cut > 0 && !utf8.RuneStart(dn[cut]) {
			cut--
		}
		dn = dn[:cut] + "..."
	}
	return `"` + dn + `"`
}

// KeyDescription names a certificate's public key like "RSA 2048-bit",
// "ECDSA P-256" or "Ed25519".
func KeyDescription(c *x509.Certificate) string {
	return describeKey(c.PublicKey, c.PublicKeyAlgorithm)
}
