package awsapi_test

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trustgate/internal/awsapi"
)

// readCapture parses one capture file: the request's exact bytes sit
// between the "# ---- request" line and the "# [capture]" trailer.
func readCapture(t *testing.T, path string) *http.Request {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("# ---- request"))
	if i >= 0 {
		raw = raw[i+bytes.IndexByte(raw[i:], '\n')+1:]
	}
	if j := bytes.LastIndex(raw, []byte("\r\n\r\n# [capture]")); j >= 0 {
		raw = raw[:j]
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return req
}

// TestCLICapturesVerify replays what both AWS CLIs really sent (signed with
// key "test"/"test") through the endpoint at the capture's own time: every
// one must pass SigV4, its body decoded, and reach the right service.
func TestCLICapturesVerify(t *testing.T) {
	files, err := filepath.Glob("testdata/awscli-wire/*/*.txt")
	if err != nil || len(files) < 40 {
		t.Fatalf("captures: %v %d", err, len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			req := readCapture(t, f)
			at, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			fakes := map[string]*fakeService{}
			services := map[string]awsapi.Service{}
			for _, n := range []string{"s3", "apigateway", "acm", "route53"} {
				fakes[n] = &fakeService{name: n}
				services[n] = fakes[n]
			}
			e := awsapi.New(awsapi.Config{
				Credentials: awsapi.Credentials{AccessKeyID: "test", Secret: "test"},
				Region:      "us-east-1",
				Services:    services,
				Now:         func() time.Time { return at.Add(3 * time.Minute) },
			})
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			want := "s3"
			switch {
			case strings.Contains(f, "apigateway"):
				want = "apigateway"
			case strings.Contains(f, "route53"):
				want = "route53"
			}
			got := fakes[want].requests()
			if len(got) != 1 {
				t.Fatalf("status %d, %s errors %v", rec.Code, want, fakes[want].errs)
			}
			if strings.HasSuffix(f, "17-s3-cp.txt") || strings.HasSuffix(f, "22-s3-cp-over-https.txt") {
				if !bytes.HasPrefix(got[0].Body, []byte("-----BEGIN CERTIFICATE-----")) || len(got[0].Body) != 607 {
					t.Errorf("s3 cp body: %d bytes %q", len(got[0].Body), got[0].Body[:min(40, len(got[0].Body))])
				}
			}
		})
	}
}

// The same captures one second outside the 15-minute window are refused.
func TestCLICaptureTooOld(t *testing.T) {
	req := readCapture(t, "testdata/awscli-wire/v1/17-s3-cp.txt")
	at, _ := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
	s3 := &fakeService{name: "s3"}
	e := awsapi.New(awsapi.Config{
		Credentials: awsapi.Credentials{AccessKeyID: "test", Secret: "test"},
		Services:    map[string]awsapi.Service{"s3": s3},
		Now:         func() time.Time { return at.Add(15*time.Minute + time.Second) },
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != 403 || s3.lastError(t).Code != "RequestTimeTooSkewed" || len(s3.requests()) != 0 {
		t.Errorf("status %d", rec.Code)
	}
}
