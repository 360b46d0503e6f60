package apigw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/smithy-go"

	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/store/bolt"
	"trustgate/internal/testpki"
)

const (
	testRegion  = "us-east-1"
	testAccount = "111122223333"
)

// objects is an in-test versioned object store for truststores.
type objects struct {
	mu       sync.Mutex
	versions map[string][]objectVersion // bucket/key -> oldest first
	seq      int
	onGet    func() // runs (unlocked) before each GetObject answers
}

type objectVersion struct {
	id   string
	data []byte
}

func newObjects() *objects { return &objects{versions: map[string][]objectVersion{}} }

// put stores a new version and returns its id.
func (o *objects) put(bucket, key string, data []byte) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	id := fmt.Sprintf("v%03d", o.seq)
	k := bucket + "/" + key
	o.versions[k] = append(o.versions[k], objectVersion{id: id, data: append([]byte(nil), data...)})
	return id
}

func (o *objects) GetObject(_ context.Context, bucket, key, versionID string) ([]byte, string, error) {
	o.mu.Lock()
	hook := o.onGet
	o.mu.Unlock()
	if hook != nil {
		hook()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	vs := o.versions[bucket+"/"+key]
	if len(vs) == 0 {
		return nil, "", errors.New("NoSuchKey")
	}
	if versionID == "" {
		v := vs[len(vs)-1]
		return append([]byte(nil), v.data...), v.id, nil
	}
	for _, v := range vs {
		if v.id == versionID {
			return append([]byte(nil), v.data...), v.id, nil
		}
	}
	return nil, "", errors.New("NoSuchVersion")
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// env is one service on a real loopback listener with SDK clients.
type env struct {
	t       *testing.T
	path    string
	store   store.Store
	objects *objects
	clock   *clock
	svc     *Service
	srv     *httptest.Server
	v1      *apigateway.Client
	v2      *apigatewayv2.Client
	ctx     context.Context
	// configure, when set, adjusts the service's Config at each start.
	configure func(*Config)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the service's Config adjusted by configure.
func newEnvWith(t *testing.T, configure func(*Config)) *env {
	t.Helper()
	e := &env{
		configure: configure,
		t:         t,
		path:      filepath.Join(t.TempDir(), "state.db"),
		objects:   newObjects(),
		clock:     &clock{now: time.Now().UTC().Truncate(time.Second)},
		ctx:       context.Background(),
	}
	db, err := bolt.Open(e.path)
	if err != nil {
		t.Fatal(err)
	}
	e.store = db
	e.start()
	t.Cleanup(func() {
		e.srv.Close()
		e.store.Close()
	})
	return e
}

// start builds the service and its listener over e.store.
func (e *env) start() {
	svcCfg := Config{
		Store: e.store, Region: testRegion, AccountID: testAccount, PublicDomain: "gw.test",
		Objects: e.objects, Now: e.clock.Now,
	}
	if e.configure != nil {
		e.configure(&svcCfg)
	}
	e.svc = New(svcCfg)
	e.srv = httptest.NewServer(e.svc)
	cfg := aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	e.v1 = apigateway.NewFromConfig(cfg, func(o *apigateway.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
	e.v2 = apigatewayv2.NewFromConfig(cfg, func(o *apigatewayv2.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })
}

// restart closes the listener and the bolt file, reopens both, and builds a
// fresh service: only what the store holds survives.
func (e *env) restart() {
	e.t.Helper()
	e.srv.Close()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	db, err := bolt.Open(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = db
	e.start()
}

// cert stores an issued ACM certificate for names and returns its ARN.
func (e *env) cert(names ...string) string {
	e.t.Helper()
	ca := testpki.NewCA(e.t, "Server CA")
	leaf := ca.Leaf(e.t, testpki.Server(names...))
	id, err := model.NewID()
	if err != nil {
		e.t.Fatal(err)
	}
	arn := fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", testRegion, testAccount, id)
	c := model.Certificate{
		ARN: arn, DomainName: names[0], SANs: names, Type: model.CertImported, Status: "ISSUED",
		CertificatePEM: string(leaf.CertPEM), PrivateKeyPEM: model.Secret(leaf.KeyPEM),
		NotBefore: leaf.Cert.NotBefore, NotAfter: leaf.Cert.NotAfter,
	}
	if _, err := e.store.Update(e.ctx, func(tx store.Tx) error { return store.PutJSON(tx, model.CertKey(id), c) }); err != nil {
		e.t.Fatal(err)
	}
	return arn
}

// truststore uploads a bundle of one fresh CA and returns its version.
func (e *env) truststore(bucket, key string, opts ...testpki.Option) (string, []byte) {
	e.t.Helper()
	ca := testpki.NewCA(e.t, "Partner Root", opts...)
	return e.objects.put(bucket, key, ca.CertPEM), ca.CertPEM
}

// apiError checks err is an API error with code, HTTP status and a message
// containing msg.
func apiError(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v (%T), want an API error %s", err, err, code)
	}
	if ae.ErrorCode() != code {
		t.Errorf("error code = %q, want %q (message %q)", ae.ErrorCode(), code, ae.ErrorMessage())
	}
	if !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("message = %q, want it to contain %q", ae.ErrorMessage(), msg)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("no HTTP response in %v", err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("status = %d, want %d", re.HTTPStatusCode(), status)
	}
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

// count returns how many keys the store holds under prefix.
func (e *env) count(prefix string) int {
	e.t.Helper()
	n := 0
	if _, err := e.store.View(e.ctx, func(tx store.Tx) error {
		kvs, err := tx.List(prefix)
		n = len(kvs)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// raw sends an unsigned request straight to the service.
func (e *env) raw(method, path, body string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// mustCA returns the PEM of a fresh root CA (a one-certificate truststore).
func mustCA(t *testing.T) []byte { return testpki.NewCA(t, "Golden Root").CertPEM }
