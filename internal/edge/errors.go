package edge

import (
	"errors"
	"io"
	"net/http"
)

// Sentinel errors.
var (
	// ErrDomainUnavailable refuses a handshake for a domain that has no
	// usable build (its certificate or truststore could not be parsed and
	// there is no previous build to keep serving).
	ErrDomainUnavailable = errors.New("domain unavailable")
	// ErrConfig is wrapped by errors in the edge's static Config.
	ErrConfig = errors.New("invalid edge configuration")
)

// gatewayError is one of the fixed answers API Gateway itself gives.
type gatewayError struct {
	status  int
	errType string // x-amzn-ErrorType, "" for none
	body    string
}

// The gateway's own answers (DESIGN §5). Bodies are byte-for-byte what AWS
// sends, including the space AWS puts after the colon of its 5xx bodies.
var (
	errForbidden    = gatewayError{http.StatusForbidden, "ForbiddenException", `{"message":"Forbidden"}`}
	errMissingToken = gatewayError{http.StatusForbidden, "MissingAuthenticationTokenException",
		`{"message":"Missing Authentication Token"}`}
	errMisdirected = gatewayError{http.StatusMisdirectedRequest, "", `{"message":"Misdirected Request"}`}
	errInternal    = gatewayError{http.StatusInternalServerError, "InternalServerErrorException",
		`{"message": "Internal server error"}`}
	errBadGateway = gatewayError{http.StatusBadGateway, "InternalServerErrorException",
		`{"message": "Internal server error"}`}
	errTimeout    = gatewayError{http.StatusGatewayTimeout, "", `{"message": "Endpoint request timed out"}`}
	errBadRequest = gatewayError{http.StatusBadRequest, "BadRequestException", `{"message":"Bad Request"}`}
)

func (e gatewayError) write(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	if e.errType != "" {
		h["x-amzn-ErrorType"] = []string{e.errType}
	}
	w.WriteHeader(e.status)
	_, _ = io.WriteString(w, e.body)
}
