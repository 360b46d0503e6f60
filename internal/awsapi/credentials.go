package awsapi

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"trustgate/internal/model"
)

// CredentialsFile is the name of the admin credentials file in the data directory.
const CredentialsFile = "credentials.json"

// Credentials are the one access key the management endpoint accepts. The
// secret never prints: fmt and slog show it redacted.
type Credentials struct {
	AccessKeyID string       `json:"accessKeyId"`
	Secret      model.Secret `json:"secretAccessKey"`
}

// Validate reports whether both halves of the key are set.
func (c Credentials) Validate() error {
	if c.AccessKeyID == "" || c.Secret == "" {
		return errors.New("credentials need an access key id and a secret access key")
	}
	if strings.ContainsAny(c.AccessKeyID, "/ \t\r\n") {
		return fmt.Errorf("access key id %q must not contain '/' or spaces", c.AccessKeyID)
	}
	return nil
}

// LogValue implements slog.LogValuer: the access key id, never the secret.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", c.AccessKeyID), slog.String("secret_access_key", "REDACTED"))
}

// String implements fmt.Stringer without the secret.
func (c Credentials) String() string { return "{" + c.AccessKeyID + " REDACTED}" }

// GoString implements fmt.GoStringer without the secret.
func (c Credentials) GoString() string { return c.String() }

// EnvLines returns shell lines for eval that point the AWS CLI and SDKs at
// the management endpoint with these credentials. AWS_ENDPOINT_URL is
// honoured by aws-cli v1 since 1.29 (botocore 1.31) and v2 since 2.13, and
// by the SDKs; older CLIs (Debian 12's 2.9) need --endpoint-url, for which
// the same URL is exported as TRUSTGATE_ENDPOINT.
func (c Credentials) EnvLines(region, endpoint string) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v)) }
	line("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	line("AWS_SECRET_ACCESS_KEY", string(c.Secret))
	line("AWS_DEFAULT_REGION", region)
	line("AWS_REGION", region)
	line("AWS_ENDPOINT_URL", endpoint)
	line("TRUSTGATE_ENDPOINT", endpoint)
	return b.String()
}

// shellQuote leaves plain words alone and single-quotes anything else.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+/-_.:@,=%", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LoadOrCreateCredentials reads {dataDir}/credentials.json, or creates it
// (mode 0600, directory 0700) with a fresh random key on first start. A file
// that group or others may read is refused, like ssh does with private keys:
// the error says how to fix the mode. Two processes starting at once end up
// with the same key (the file is published with a hard link, which fails if
// it exists).
func LoadOrCreateCredentials(dataDir string) (Credentials, error) {
	path := filepath.Join(dataDir, CredentialsFile)
	c, err := readCredentials(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return c, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return Credentials{}, fmt.Errorf("creating data directory %s: %w", dataDir, err)
	}
	c, err = generateCredentials()
	if err != nil {
		return Credentials{}, err
	}
	if err := publishCredentials(dataDir, path, c); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readCredentials(path)
		}
		return Credentials{}, err
	}
	return c, nil
}

func readCredentials(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("opening credentials %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Credentials{}, fmt.Errorf("checking credentials %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return Credentials{}, fmt.Errorf("credentials file %s is accessible by group or others (mode %04o); run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	var c Credentials
	if err := json.NewDecoder(f).Decode(&c); err != nil {
		return Credentials{}, fmt.Errorf("decoding credentials %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Credentials{}, fmt.Errorf("credentials %s: %w", path, err)
	}
	return c, nil
}

func publishCredentials(dir, path string, c Credentials) error {
	tmp, err := os.CreateTemp(dir, ".credentials-*.tmp") // 0600
	if err != nil {
		return fmt.Errorf("writing credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		tmp.Close()
		return fmt.Errorf("encoding credentials: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing credentials %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing credentials %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing credentials %s: %w", tmp.Name(), err)
	}
	// Link, unlike rename, refuses to replace a file another process wrote first.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("publishing credentials %s: %w", path, err)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("publishing credentials %s: %w", path, err)
		}
	}
	return nil
}

const (
	keyIDAlphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"                                 // 32 symbols
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" // 64 symbols
)

// generateCredentials makes an AKIA… key id (20 characters) and a
// 40-character secret from crypto/rand. Both alphabets have a power-of-two
// size, so masking a random byte gives uniform symbols.
func generateCredentials() (Credentials, error) {
	id, err := randomString(16, keyIDAlphabet)
	if err != nil {
		return Credentials{}, err
	}
	secret, err := randomString(40, secretAlphabet)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: "AKIA" + id, Secret: model.Secret(secret)}, nil
}

func randomString(n int, alphabet string) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generating credentials: %w", err)
	}
	mask := byte(len(alphabet) - 1)
	for i, b := range buf {
		buf[i] = alphabet[b&mask]
	}
	return string(buf), nil
}
