package route53_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"trustgate/internal/awsapi/route53"
	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/store/bolt"
)

type env struct {
	st     store.Store
	srv    *httptest.Server
	client *r53.Client
	served *atomic.Int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	served := new(atomic.Int64)
	svc := route53.New(route53.Config{
		Store: st, Region: "us-east-1", PublicDomain: "localhost",
		Served: served.Load,
	})
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	client := r53.New(r53.Options{
		BaseEndpoint:     aws.String(srv.URL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
	return &env{st: st, srv: srv, client: client, served: served}
}

func (e *env) createZone(t *testing.T, name, ref string) *r53.CreateHostedZoneOutput {
	t.Helper()
	out, err := e.client.CreateHostedZone(context.Background(), &r53.CreateHostedZoneInput{
		Name: aws.String(name), CallerReference: aws.String(ref),
	})
	if err != nil {
		t.Fatalf("CreateHostedZone(%s): %v", name, err)
	}
	return out
}

func bareID(id string) string {
	id = strings.TrimPrefix(id, "/hostedzone/")
	return strings.TrimPrefix(id, "/change/")
}

func simple(action types.ChangeAction, name string, typ types.RRType, ttl int64, values ...string) types.Change {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return types.Change{Action: action, ResourceRecordSet: rs}
}

func alias(action types.ChangeAction, name string, typ types.RRType, zone, target string) types.Change {
	return types.Change{Action: action, ResourceRecordSet: &types.ResourceRecordSet{
		Name: aws.String(name), Type: typ,
		AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(zone), DNSName: aws.String(target)},
	}}
}

func (e *env) change(zoneID string, changes ...types.Change) (*r53.ChangeResourceRecordSetsOutput, error) {
	return e.client.ChangeResourceRecordSets(context.Background(), &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
		ChangeBatch:  &types.ChangeBatch{Changes: changes},
	})
}

func (e *env) list(t *testing.T, zoneID string) []types.ResourceRecordSet {
	t.Helper()
	var all []types.ResourceRecordSet
	p := r53.NewListResourceRecordSetsPaginator(e.client, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListResourceRecordSets: %v", err)
		}
		all = append(all, out.ResourceRecordSets...)
	}
	return all
}

func summary(sets []types.ResourceRecordSet) []string {
	var out []string
	for _, rs := range sets {
		s := aws.ToString(rs.Name) + " " + string(rs.Type)
		if rs.AliasTarget != nil {
			s += " alias " + aws.ToString(rs.AliasTarget.DNSName)
		}
		for _, v := range rs.ResourceRecords {
			s += " " + aws.ToString(v.Value)
		}
		out = append(out, s)
	}
	return out
}

var idRE = regexp.MustCompile(`^/hostedzone/Z[A-Z0-9]{13,21}$`)
var changeRE = regexp.MustCompile(`^/change/C[A-Z0-9]{10,31}$`)

func TestHostedZoneLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out := e.createZone(t, "Example.COM", "ref-1")
	if !idRE.MatchString(aws.ToString(out.HostedZone.Id)) {
		t.Errorf("zone id %q does not look like Route 53's", aws.ToString(out.HostedZone.Id))
	}
	if got := aws.ToString(out.HostedZone.Name); got != "example.com." {
		t.Errorf("name = %q, want example.com.", got)
	}
	if !changeRE.MatchString(aws.ToString(out.ChangeInfo.Id)) || out.ChangeInfo.Status != types.ChangeStatusPending {
		t.Errorf("change info = %q %q", aws.ToString(out.ChangeInfo.Id), out.ChangeInfo.Status)
	}
	if len(out.DelegationSet.NameServers) == 0 || !strings.HasSuffix(aws.ToString(out.Location), "/2013-04-01/hostedzone/"+bareID(*out.HostedZone.Id)) {
		t.Errorf("delegation set %v, location %q", out.DelegationSet.NameServers, aws.ToString(out.Location))
	}
	id := bareID(*out.HostedZone.Id)

	// Same caller reference: HostedZoneAlreadyExists, even for another name.
	_, err := e.client.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("other.com"), CallerReference: aws.String("ref-1")})
	var exists *types.HostedZoneAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("same caller reference: err = %v, want HostedZoneAlreadyExists", err)
	}
	// Same name: refused, every zone shares the name servers.
	_, err = e.client.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("example.com."), CallerReference: aws.String("ref-2")})
	var conflicting *types.ConflictingDomainExists
	if !errors.As(err, &conflicting) {
		t.Errorf("same name: err = %v, want ConflictingDomainExists", err)
	}
	// Bad names.
	for _, name := range []string{"com", "", "a..b.com", strings.Repeat("a", 64) + ".com", "bad!.com", "*.example.org"} {
		_, err = e.client.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String("ref-" + name)})
		var invalid *types.InvalidDomainName
		if !errors.As(err, &invalid) {
			t.Errorf("CreateHostedZone(%q): err = %v, want InvalidDomainName", name, err)
		}
	}

	got, err := e.client.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(got.HostedZone.ResourceRecordSetCount) != 2 || aws.ToString(got.HostedZone.CallerReference) != "ref-1" {
		t.Errorf("GetHostedZone = count %d ref %q", aws.ToInt64(got.HostedZone.ResourceRecordSetCount), aws.ToString(got.HostedZone.CallerReference))
	}
	// The /hostedzone/ form of the id works too (the SDK strips it; send it raw).
	resp := e.raw(t, "GET", "/2013-04-01/hostedzone/%2Fhostedzone%2F"+id, "")
	if resp.status != 200 || !strings.Contains(resp.body, "<Id>/hostedzone/"+id+"</Id>") {
		t.Errorf("GET with /hostedzone/ id: %d %s", resp.status, resp.body)
	}
	resp = e.raw(t, "GET", "/2013-04-01/hostedzone//hostedzone/"+id, "")
	if resp.status != 200 {
		t.Errorf("GET with //hostedzone/ id: %d %s", resp.status, resp.body)
	}

	sets := e.list(t, id)
	if want := []string{"example.com. NS ns1.localhost. ns2.localhost.", "example.com. SOA ns1.localhost. hostmaster.localhost. 1 7200 900 1209600 300"}; fmt.Sprint(summary(sets)) != fmt.Sprint(want) {
		t.Errorf("apex records = %q, want %q", summary(sets), want)
	}

	e.createZone(t, "b.example.net", "ref-3")
	lz, err := e.client.ListHostedZones(ctx, &r53.ListHostedZonesInput{})
	if err != nil || len(lz.HostedZones) != 2 {
		t.Fatalf("ListHostedZones = %v, %v", lz, err)
	}
	lz, err = e.client.ListHostedZones(ctx, &r53.ListHostedZonesInput{MaxItems: aws.Int32(1)})
	if err != nil || len(lz.HostedZones) != 1 || !lz.IsTruncated || lz.NextMarker == nil {
		t.Fatalf("ListHostedZones(max 1) = %+v, %v", lz, err)
	}
	lz2, err := e.client.ListHostedZones(ctx, &r53.ListHostedZonesInput{Marker: lz.NextMarker})
	if err != nil || len(lz2.HostedZones) != 1 || lz2.IsTruncated || *lz2.HostedZones[0].Id == *lz.HostedZones[0].Id {
		t.Fatalf("ListHostedZones(marker) = %+v, %v", lz2, err)
	}
	bn, err := e.client.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{})
	if err != nil || len(bn.HostedZones) != 2 || aws.ToString(bn.HostedZones[0].Name) != "example.com." {
		t.Fatalf("ListHostedZonesByName = %+v, %v", bn, err)
	}
	bn, err = e.client.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{DNSName: aws.String("example.net")})
	if err != nil || len(bn.HostedZones) != 1 || aws.ToString(bn.HostedZones[0].Name) != "b.example.net." {
		t.Fatalf("ListHostedZonesByName(example.net) = %+v, %v", bn, err)
	}
	cnt, err := e.client.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})
	if err != nil || aws.ToInt64(cnt.HostedZoneCount) != 2 {
		t.Fatalf("GetHostedZoneCount = %v, %v", cnt, err)
	}

	// Not empty while it has more than SOA and NS.
	if _, err := e.change(id, simple(types.ChangeActionCreate, "www.example.com", types.RRTypeA, 60, "192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(id)})
	var notEmpty *types.HostedZoneNotEmpty
	if !errors.As(err, &notEmpty) {
		t.Fatalf("delete non-empty: err = %v, want HostedZoneNotEmpty", err)
	}
	if _, err := e.change(id, simple(types.ChangeActionDelete, "www.example.com", types.RRTypeA, 60, "192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	del, err := e.client.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(id)})
	if err != nil || !changeRE.MatchString(aws.ToString(del.ChangeInfo.Id)) {
		t.Fatalf("DeleteHostedZone = %v, %v", del, err)
	}
	_, err = e.client.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)})
	var noSuch *types.NoSuchHostedZone
	if !errors.As(err, &noSuch) {
		t.Fatalf("get deleted: err = %v, want NoSuchHostedZone", err)
	}
	// The store keeps nothing of the zone's records.
	e.st.View(ctx, func(tx store.Tx) error {
		kvs, _ := tx.List(model.RecordSetsPrefix(id))
		if len(kvs) != 0 {
			t.Errorf("record sets left after delete: %d", len(kvs))
		}
		return nil
	})
}

type rawResp struct {
	status int
	body   string
	header http.Header
}

func (e *env) raw(t *testing.T, method, path, body string) rawResp {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResp{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func TestErrorDocument(t *testing.T) {
	e := newEnv(t)
	r := e.raw(t, "GET", "/2013-04-01/hostedzone/ZNOSUCHZONE1234", "")
	want := regexp.MustCompile(`^<\?xml version="1.0" encoding="UTF-8"\?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>NoSuchHostedZone</Code><Message>No hosted zone found with ID: ZNOSUCHZONE1234</Message></Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>$`)
	if r.status != 404 || !want.MatchString(r.body) {
		t.Errorf("got %d %s", r.status, r.body)
	}
	if r.header.Get("x-amzn-RequestId") == "" || r.header.Get("Content-Type") != "text/xml" {
		t.Errorf("headers %v", r.header)
	}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed xml", "POST", "/2013-04-01/hostedzone", "<CreateHostedZoneRequest><Name>", 400, "InvalidInput"},
		{"missing caller reference", "POST", "/2013-04-01/hostedzone", "<CreateHostedZoneRequest><Name>a.com</Name></CreateHostedZoneRequest>", 400, "InvalidInput"},
		{"private zone", "POST", "/2013-04-01/hostedzone", "<CreateHostedZoneRequest><Name>a.com</Name><CallerReference>x</CallerReference><VPC><VPCId>v</VPCId></VPC></CreateHostedZoneRequest>", 400, "InvalidInput"},
		{"id too long", "GET", "/2013-04-01/hostedzone/" + strings.Repeat("Z", 33), "", 400, "InvalidInput"},
		{"id with bad characters", "GET", "/2013-04-01/hostedzone/z..x", "", 404, "NoSuchHostedZone"},
		{"no such change", "GET", "/2013-04-01/change/C123", "", 404, "NoSuchChange"},
		{"unknown operation", "GET", "/2013-04-01/healthcheck", "", 404, "UnknownOperationException"},
		{"bad maxitems", "GET", "/2013-04-01/hostedzone?maxitems=x", "", 400, "InvalidInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.raw(t, tc.method, tc.path, tc.body)
			if r.status != tc.status || !strings.Contains(r.body, "<Code>"+tc.code+"</Code>") {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
}

func invalidBatch(t *testing.T, err error) string {
	t.Helper()
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) {
		t.Fatalf("err = %v, want InvalidChangeBatch", err)
	}
	return icb.ErrorMessage()
}

func TestChangeResourceRecordSets(t *testing.T) {
	e := newEnv(t)
	id := bareID(*e.createZone(t, "example.com", "r").HostedZone.Id)

	out, err := e.change(id,
		simple(types.ChangeActionCreate, "api.example.com", types.RRTypeA, 300, "192.0.2.10", "192.0.2.11"),
		simple(types.ChangeActionCreate, "WWW.Example.com.", types.RRTypeCname, 300, "api.example.com"),
		simple(types.ChangeActionCreate, "example.com", types.RRTypeMx, 300, "10 mail.example.com"),
		simple(types.ChangeActionCreate, "example.com", types.RRTypeTxt, 300, `"v=spf1 -all"`),
		simple(types.ChangeActionCreate, "long.example.com", types.RRTypeTxt, 300, `"`+strings.Repeat("a", 255)+`" "\065\""`),
		simple(types.ChangeActionCreate, "_sip._tcp.example.com", types.RRTypeSrv, 300, "1 10 5060 sip.example.com"),
		simple(types.ChangeActionCreate, "example.com", types.RRTypeCaa, 300, `0 issue "amazon.com"`),
		simple(types.ChangeActionCreate, "*.example.com", types.RRTypeAaaa, 0, "2001:db8::1"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !changeRE.MatchString(aws.ToString(out.ChangeInfo.Id)) || out.ChangeInfo.SubmittedAt == nil {
		t.Errorf("change info %+v", out.ChangeInfo)
	}

	cases := []struct {
		name    string
		changes []types.Change
		want    string
	}{
		{"create existing", []types.Change{simple(types.ChangeActionCreate, "api.example.com", types.RRTypeA, 300, "192.0.2.1")},
			"[Tried to create resource record set [name='api.example.com.', type='A'] but it already exists]"},
		{"delete missing", []types.Change{simple(types.ChangeActionDelete, "x.example.com", types.RRTypeA, 300, "192.0.2.1")},
			"[Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found]"},
		{"delete other values", []types.Change{simple(types.ChangeActionDelete, "api.example.com", types.RRTypeA, 300, "192.0.2.10")},
			"[Tried to delete resource record set [name='api.example.com.', type='A'] but the values provided do not match the current values]"},
		{"delete other ttl", []types.Change{simple(types.ChangeActionDelete, "api.example.com", types.RRTypeA, 60, "192.0.2.10", "192.0.2.11")},
			"[Tried to delete resource record set [name='api.example.com.', type='A'] but the values provided do not match the current values]"},
		{"outside zone", []types.Change{simple(types.ChangeActionCreate, "api.example.org", types.RRTypeA, 300, "192.0.2.1")},
			"[RRSet with DNS name api.example.org. is not permitted in zone example.com.]"},
		{"cname at apex", []types.Change{simple(types.ChangeActionUpsert, "example.com", types.RRTypeCname, 300, "x.example.com")},
			"[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]"},
		{"cname beside A", []types.Change{simple(types.ChangeActionCreate, "api.example.com", types.RRTypeCname, 300, "x.example.com")},
			"[RRSet of type CNAME with DNS name api.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]"},
		{"A beside cname", []types.Change{simple(types.ChangeActionCreate, "www.example.com", types.RRTypeA, 300, "192.0.2.1")},
			"[RRSet of type A with DNS name www.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com.]"},
		{"bad ipv4", []types.Change{simple(types.ChangeActionCreate, "b.example.com", types.RRTypeA, 300, "300.1.1.1")},
			"[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '300.1.1.1'']"},
		{"unquoted txt", []types.Change{simple(types.ChangeActionCreate, "t.example.com", types.RRTypeTxt, 300, "hello")},
			"[Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'hello'']"},
		{"txt string too long", []types.Change{simple(types.ChangeActionCreate, "t.example.com", types.RRTypeTxt, 300, `"`+strings.Repeat("a", 256)+`"`)},
			"[Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too long) encountered with '\"" + strings.Repeat("a", 256) + "\"'']"},
		{"txt half quoted", []types.Change{simple(types.ChangeActionCreate, "t.example.com", types.RRTypeTxt, 300, `"a" b`)},
			"[Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '\"a\" b'']"},
		{"label too long", []types.Change{simple(types.ChangeActionCreate, strings.Repeat("a", 64)+".example.com", types.RRTypeA, 300, "192.0.2.1")},
			"[FATAL problem: DomainLabelTooLong (Domain label is too long) encountered with '" + strings.Repeat("a", 64) + ".example.com']"},
		{"name too long", []types.Change{simple(types.ChangeActionCreate, strings.Repeat("abcdefgh.", 30)+"example.com", types.RRTypeA, 300, "192.0.2.1")},
			"[FATAL problem: DomainNameTooLong (Domain name is too long) encountered with '" + strings.Repeat("abcdefgh.", 30) + "example.com']"},
		{"bad label", []types.Change{simple(types.ChangeActionCreate, "a b.example.com", types.RRTypeA, 300, "192.0.2.1")},
			"[FATAL problem: UnsupportedCharacter (Value contains unsupported characters) encountered with 'a b.example.com']"},
		{"injection in value", []types.Change{simple(types.ChangeActionCreate, "i.example.com", types.RRTypeMx, 300, "10 a.example.com.\nevil 60 IN A 1.2.3.4")},
			"[Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value contains a control character) encountered with '10 a.example.com.\nevil 60 IN A 1.2.3.4'']"},
		{"duplicate value", []types.Change{simple(types.ChangeActionCreate, "d.example.com", types.RRTypeA, 300, "192.0.2.1", "192.0.2.1")},
			"[Duplicate Resource Record: '192.0.2.1']"},
		{"delete SOA", []types.Change{simple(types.ChangeActionDelete, "example.com", types.RRTypeSoa, 900, "ns1.localhost. hostmaster.localhost. 1 7200 900 1209600 300")},
			"[A HostedZone must contain exactly one SOA record.]"},
		{"two errors, one batch", []types.Change{
			simple(types.ChangeActionCreate, "ok.example.com", types.RRTypeA, 300, "192.0.2.1"),
			simple(types.ChangeActionDelete, "x.example.com", types.RRTypeA, 300, "192.0.2.1"),
			simple(types.ChangeActionCreate, "api.example.com", types.RRTypeA, 300, "192.0.2.1"),
		}, "[Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found, Tried to create resource record set [name='api.example.com.', type='A'] but it already exists]"},
	}
	before := summary(e.list(t, id))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.change(id, tc.changes...)
			if got := invalidBatch(t, err); got != tc.want {
				t.Errorf("message\n got %s\nwant %s", got, tc.want)
			}
			if after := summary(e.list(t, id)); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a refused batch changed the zone:\n%q\n%q", before, after)
			}
		})
	}

	// Schema-level problems are InvalidInput.
	for _, tc := range []struct {
		name string
		c    types.Change
	}{
		{"ttl too large", simple(types.ChangeActionCreate, "t.example.com", types.RRTypeA, 2147483648, "192.0.2.1")},
		{"ttl negative", simple(types.ChangeActionCreate, "t.example.com", types.RRTypeA, -1, "192.0.2.1")},
		{"no records", types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("t.example.com"), Type: types.RRTypeA}}},
		{"weighted", types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("t.example.com"), Type: types.RRTypeA, TTL: aws.Int64(1), SetIdentifier: aws.String("a"), Weight: aws.Int64(1), ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.change(id, tc.c)
			var ii *types.InvalidInput
			if !errors.As(err, &ii) {
				t.Errorf("err = %v, want InvalidInput", err)
			}
		})
	}

	// Too many changes.
	var many []types.Change
	for i := range 1001 {
		many = append(many, simple(types.ChangeActionCreate, fmt.Sprintf("h%d.example.com", i), types.RRTypeA, 60, "192.0.2.1"))
	}
	_, err = e.change(id, many...)
	if got := invalidBatch(t, err); !strings.Contains(got, "limit of 1000") {
		t.Errorf("too many changes: %s", got)
	}
	if after := summary(e.list(t, id)); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused batch changed the zone")
	}

	// DELETE then CREATE of the same set in one batch is a replacement;
	// UPSERT replaces too.
	if _, err := e.change(id,
		simple(types.ChangeActionDelete, "www.example.com", types.RRTypeCname, 300, "api.example.com"),
		simple(types.ChangeActionCreate, "www.example.com", types.RRTypeA, 60, "192.0.2.20"),
		simple(types.ChangeActionUpsert, "api.example.com", types.RRTypeA, 30, "192.0.2.12"),
	); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"example.com. CAA 0 issue \"amazon.com\"",
		"example.com. MX 10 mail.example.com",
		"example.com. NS ns1.localhost. ns2.localhost.",
		"example.com. SOA ns1.localhost. hostmaster.localhost. 1 7200 900 1209600 300",
		"example.com. TXT \"v=spf1 -all\"",
		"*.example.com. AAAA 2001:db8::1",
		"_sip._tcp.example.com. SRV 1 10 5060 sip.example.com",
		"api.example.com. A 192.0.2.12",
		"long.example.com. TXT \"" + strings.Repeat("a", 255) + "\" \"\\065\\\"\"",
		"www.example.com. A 192.0.2.20",
	}
	if got := summary(e.list(t, id)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records\n got %q\nwant %q", got, want)
	}
}

func TestListResourceRecordSetsPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := bareID(*e.createZone(t, "example.com", "r").HostedZone.Id)
	var changes []types.Change
	// Names whose reversed-label order differs from plain order.
	for _, n := range []string{"b.example.com", "a.b.example.com", "z.example.com", "a-b.example.com", "a.example.com"} {
		changes = append(changes,
			simple(types.ChangeActionCreate, n, types.RRTypeTxt, 60, `"x"`),
			simple(types.ChangeActionCreate, n, types.RRTypeA, 60, "192.0.2.1"))
	}
	if _, err := e.change(id, changes...); err != nil {
		t.Fatal(err)
	}
	wantOrder := []string{
		"example.com. NS", "example.com. SOA",
		"a-b.example.com. A", "a-b.example.com. TXT",
		"a.example.com. A", "a.example.com. TXT",
		"b.example.com. A", "b.example.com. TXT",
		"a.b.example.com. A", "a.b.example.com. TXT",
		"z.example.com. A", "z.example.com. TXT",
	}
	var got []string
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), MaxItems: aws.Int32(5)}
	for pages := 0; ; pages++ {
		out, err := e.client.ListResourceRecordSets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ResourceRecordSets) > 5 || aws.ToInt32(out.MaxItems) != 5 {
			t.Fatalf("page of %d, MaxItems %d", len(out.ResourceRecordSets), aws.ToInt32(out.MaxItems))
		}
		for _, rs := range out.ResourceRecordSets {
			got = append(got, aws.ToString(rs.Name)+" "+string(rs.Type))
		}
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType = out.NextRecordName, out.NextRecordType
	}
	if fmt.Sprint(got) != fmt.Sprint(wantOrder) {
		t.Errorf("order\n got %q\nwant %q", got, wantOrder)
	}
	// Start at a name only, and at a name and type.
	out, err := e.client.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordName: aws.String("B.example.com"), MaxItems: aws.Int32(1)})
	if err != nil || aws.ToString(out.ResourceRecordSets[0].Name) != "b.example.com." || out.ResourceRecordSets[0].Type != types.RRTypeA {
		t.Errorf("start b.example.com: %+v %v", out, err)
	}
	out, err = e.client.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordName: aws.String("b.example.com"), StartRecordType: types.RRTypeCname, MaxItems: aws.Int32(1)})
	if err != nil || aws.ToString(out.ResourceRecordSets[0].Name) != "b.example.com." || out.ResourceRecordSets[0].Type != types.RRTypeTxt {
		t.Errorf("start b.example.com CNAME: %+v %v", out, err)
	}
	_, err = e.client.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordType: types.RRTypeA})
	var ii *types.InvalidInput
	if !errors.As(err, &ii) {
		t.Errorf("type without name: %v", err)
	}
	_, err = e.client.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOPE")})
	var nz *types.NoSuchHostedZone
	if !errors.As(err, &nz) {
		t.Errorf("unknown zone: %v", err)
	}
}

func putDomain(t *testing.T, st store.Store, name, id string) {
	t.Helper()
	_, err := st.Update(context.Background(), func(tx store.Tx) error {
		return store.PutJSON(tx, model.DomainKey(name), model.DomainName{Name: name, ID: id, Status: model.DomainAvailable})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAliasTargets(t *testing.T) {
	e := newEnv(t)
	id := bareID(*e.createZone(t, "example.com", "r").HostedZone.Id)
	putDomain(t, e.st, "api.example.com", "abcdef1234")
	regional := model.RegionalDomainName("abcdef1234", "us-east-1", "localhost")
	hz := model.RegionalHostedZoneID("us-east-1")

	if _, err := e.change(id,
		alias(types.ChangeActionUpsert, "api.example.com", types.RRTypeA, hz, regional),
		alias(types.ChangeActionUpsert, "api.example.com", types.RRTypeAaaa, hz, strings.ToUpper(regional)+"."),
		// Same-zone alias, target created later in the same batch.
		alias(types.ChangeActionCreate, "example.com", types.RRTypeA, id, "origin.example.com"),
		simple(types.ChangeActionCreate, "origin.example.com", types.RRTypeA, 60, "192.0.2.7"),
	); err != nil {
		t.Fatal(err)
	}
	sets := e.list(t, id)
	got := summary(sets)
	want := []string{
		"example.com. A alias origin.example.com.",
		"example.com. NS ns1.localhost. ns2.localhost.",
		"example.com. SOA ns1.localhost. hostmaster.localhost. 1 7200 900 1209600 300",
		"api.example.com. A alias " + regional + ".",
		"api.example.com. AAAA alias " + regional + ".",
		"origin.example.com. A 192.0.2.7",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records\n got %q\nwant %q", got, want)
	}
	if a := sets[3].AliasTarget; aws.ToString(a.HostedZoneId) != hz || a.EvaluateTargetHealth {
		t.Errorf("alias target %+v", a)
	}

	for _, tc := range []struct {
		name string
		c    types.Change
		want string
	}{
		{"unknown domain id", alias(types.ChangeActionCreate, "x.example.com", types.RRTypeA, hz, model.RegionalDomainName("nosuch", "us-east-1", "localhost")),
			"[Tried to create an alias that targets d-nosuch.execute-api.us-east-1.localhost., type A in zone " + hz + ", but that target was not found]"},
		{"aws name", alias(types.ChangeActionCreate, "x.example.com", types.RRTypeA, hz, "d-abcdef1234.execute-api.us-east-1.amazonaws.com"),
			"[Tried to create an alias that targets d-abcdef1234.execute-api.us-east-1.amazonaws.com., type A in zone " + hz + ", but the alias target name does not lie within the target zone, " +
				"Tried to create an alias that targets d-abcdef1234.execute-api.us-east-1.amazonaws.com., type A in zone " + hz + ", but that target was not found]"},
		{"other region's zone id", alias(types.ChangeActionCreate, "x.example.com", types.RRTypeA, model.RegionalHostedZoneID("eu-west-1"), regional),
			"[Tried to create an alias that targets " + regional + "., type A in zone ZLY8HYME6SFDD, but the alias target name does not lie within the target zone, " +
				"Tried to create an alias that targets " + regional + "., type A in zone ZLY8HYME6SFDD, but that target was not found]"},
		{"regional as TXT", alias(types.ChangeActionCreate, "x.example.com", types.RRTypeTxt, hz, regional),
			"[Tried to create an alias that targets " + regional + "., type TXT in zone " + hz + ", but that target was not found]"},
		{"same zone, missing", alias(types.ChangeActionCreate, "x.example.com", types.RRTypeA, id, "nothing.example.com"),
			"[Tried to create an alias that targets nothing.example.com., type A in zone " + id + ", but that target was not found]"},
		{"same zone, other type", alias(types.ChangeActionCreate, "x.example.com", types.RRTypeAaaa, id, "origin.example.com"),
			"[Tried to create an alias that targets origin.example.com., type AAAA in zone " + id + ", but that target was not found]"},
		{"same zone id, name elsewhere", alias(types.ChangeActionCreate, "x.example.com", types.RRTypeA, id, "www.example.org"),
			"[Tried to create an alias that targets www.example.org., type A in zone " + id + ", but the alias target name does not lie within the target zone, " +
				"Tried to create an alias that targets www.example.org., type A in zone " + id + ", but that target was not found]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.change(id, tc.c)
			if got := invalidBatch(t, err); got != tc.want {
				t.Errorf("message\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	// DELETE of an alias needs the same target.
	_, err := e.change(id, alias(types.ChangeActionDelete, "example.com", types.RRTypeA, id, "other.example.com"))
	if got := invalidBatch(t, err); !strings.Contains(got, "do not match") {
		t.Errorf("delete alias with other target: %s", got)
	}
	if _, err := e.change(id, alias(types.ChangeActionDelete, "example.com", types.RRTypeA, id, "Origin.Example.com.")); err != nil {
		t.Errorf("delete alias: %v", err)
	}
}

func TestGetChangeFollowsServedRevision(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := bareID(*e.createZone(t, "example.com", "r").HostedZone.Id)
	out, err := e.change(id, simple(types.ChangeActionCreate, "a.example.com", types.RRTypeA, 60, "192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	if out.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatalf("status at submit = %s", out.ChangeInfo.Status)
	}
	rev, _ := e.st.Revision(ctx)
	e.served.Store(rev - 1)
	gc, err := e.client.GetChange(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id})
	if err != nil || gc.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatalf("GetChange before served = %+v, %v", gc, err)
	}
	e.served.Store(rev)
	// The SDK's waiter is what scripts use.
	w := r53.NewResourceRecordSetsChangedWaiter(e.client, func(o *r53.ResourceRecordSetsChangedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	})
	if err := w.Wait(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id}, 5*time.Second); err != nil {
		t.Fatalf("waiting for INSYNC: %v", err)
	}
	// A negative served revision means no DNS server runs: INSYNC at once.
	e.served.Store(-1)
	out, err = e.change(id, simple(types.ChangeActionCreate, "b.example.com", types.RRTypeA, 60, "192.0.2.1"))
	if err != nil || out.ChangeInfo.Status != types.ChangeStatusInsync {
		t.Fatalf("without DNS: %+v, %v", out, err)
	}
	// The /change/ form of the id works too.
	r := e.raw(t, "GET", "/2013-04-01/change/%2Fchange%2F"+bareID(*out.ChangeInfo.Id), "")
	if r.status != 200 || !strings.Contains(r.body, "<Status>INSYNC</Status>") {
		t.Errorf("raw GetChange: %d %s", r.status, r.body)
	}
}

// The CLI's captured request (reference/awscli-wire/20-*) works as sent.
func TestCLIWireRequest(t *testing.T) {
	e := newEnv(t)
	id := bareID(*e.createZone(t, "example.com", "r").HostedZone.Id)
	putDomain(t, e.st, "api.example.com", "abcdef1234")
	body := `<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>Alias api.example.com to the regional API Gateway domain name</Comment><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>api.example.com</Name><Type>A</Type><AliasTarget><DNSName>d-abcdef1234.execute-api.us-east-1.localhost</DNSName><HostedZoneId>Z1UJRXOUMOOFQ8</HostedZoneId><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
	r := e.raw(t, "POST", "/2013-04-01/hostedzone/"+id+"/rrset/", body)
	if r.status != 200 || !strings.Contains(r.body, "<ChangeResourceRecordSetsResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeInfo><Id>/change/C") ||
		!strings.Contains(r.body, "<Comment>Alias api.example.com to the regional API Gateway domain name</Comment>") {
		t.Errorf("got %d %s", r.status, r.body)
	}
	r = e.raw(t, "GET", "/2013-04-01/hostedzone/"+id+"/rrset", "")
	if r.status != 200 || !strings.Contains(r.body, "<AliasTarget><HostedZoneId>Z1UJRXOUMOOFQ8</HostedZoneId><DNSName>d-abcdef1234.execute-api.us-east-1.localhost.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>") {
		t.Errorf("got %d %s", r.status, r.body)
	}
	// An empty list still renders the element the CLI prints as [].
	id2 := bareID(*e.createZone(t, "empty.example.net", "r2").HostedZone.Id)
	e.change(id2) // no changes: refused
	r = e.raw(t, "GET", "/2013-04-01/hostedzone/"+id2+"/rrset?name=zzz.empty.example.net", "")
	if !strings.Contains(r.body, "<ResourceRecordSets></ResourceRecordSets>") {
		t.Errorf("empty list: %s", r.body)
	}
}
