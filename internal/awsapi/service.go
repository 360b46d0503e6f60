package awsapi

import (
	"context"
	"net/http"
)

// Service is one AWS service behind the management endpoint (apigateway,
// acm, s3, route53). The endpoint authenticates every request (SigV4),
// limits its body, assigns a request id, and only then calls ServeHTTP of the
// service named in the credential scope. Services render their own errors,
// in their own wire shape, through WriteError; the endpoint uses WriteError
// too for authentication failures and oversized bodies.
type Service interface {
	http.Handler
	// WriteError renders err: an *awserr.Error in the service's wire shape,
	// anything else as the service's generic internal error (details only
	// in the log).
	WriteError(w http.ResponseWriter, r *http.Request, err error)
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
)

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id the endpoint assigned, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// MaxBodyBytes is the largest request body the endpoint accepts (10 MiB).
const MaxBodyBytes = 10 << 20
