package model

import (
	"crypto/rand"
	"fmt"
)

// IDLength is the length of the identifiers API Gateway hands out: REST API,
// resource, deployment, domain and API mapping ids.
const IDLength = 10

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns a fresh random identifier of IDLength lowercase letters and
// digits, like AWS's "a1b2c3d4e5", drawn from crypto/rand without modulo
// bias. It fails only if the system's random source does.
func NewID() (string, error) {
	const n = len(idAlphabet) // 36
	// Largest multiple of 36 that fits a byte: bytes at or above it are
	// rejected so every character is equally likely.
	const limit = 256 - 256%n
	out := make([]byte, 0, IDLength)
	buf := make([]byte, 2*IDLength)
	for len(out) < IDLength {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generating id: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, idAlphabet[int(b)%n])
			if len(out) == IDLength {
				break
			}
		}
	}
	return string(out), nil
}
