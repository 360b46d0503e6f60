package acm

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/model"
	"trustgate/internal/store"
)

const (
	codeInvalidArgs      = "InvalidArgsException"
	codeRequestInProcess = "RequestInProgressException"
	maxTags              = 50
)

func (s *Service) arn(id string) string {
	return fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", s.region, s.account, id)
}

// certID checks an ARN and returns the id it names in this region and account.
func (s *Service) certID(arn string) (string, error) {
	if arn == "" {
		return "", validation("1 validation error detected: Value null at 'certificateArn' failed to satisfy constraint: Member must not be null")
	}
	p, ok := model.ParseCertificateARN(arn)
	if !ok {
		return "", clientError(awserr.InvalidARN, "String '%s' is not a valid ARN.", truncate(arn, 200))
	}
	if p.Region != s.region || p.Account != s.account {
		return "", notFound(arn)
	}
	return p.ID, nil
}

func notFound(arn string) error {
	return clientError(awserr.ResourceNotFound, "Could not find certificate %s.", truncate(arn, 200))
}

// getCert reads a certificate by ARN inside tx.
func (s *Service) getCert(tx store.Tx, arn string) (string, model.Certificate, error) {
	id, err := s.certID(arn)
	if err != nil {
		return "", model.Certificate{}, err
	}
	c, err := store.GetJSON[model.Certificate](tx, model.CertKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return "", c, notFound(arn)
	}
	return id, c, err
}

// inUseBy lists the API Gateway domain names that serve a certificate.
func (s *Service) inUseBy(tx store.Tx) (map[string][]string, error) {
	domains, err := store.ListJSON[model.DomainName](tx, model.PrefixDomains)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, d := range domains {
		if d.CertificateARN != "" {
			out[d.CertificateARN] = append(out[d.CertificateARN], fmt.Sprintf("arn:aws:apigateway:%s::/domainnames/%s", s.region, d.Name))
		}
	}
	return out, nil
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating certificate id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

type tag struct {
	Key   string  `json:"Key"`
	Value *string `json:"Value,omitempty"`
}

// tagMap validates tags as ACM does and returns them as a map.
func tagMap(tags []tag) (map[string]string, error) {
	if len(tags) > maxTags {
		return nil, clientError(awserr.TooManyTags, "The request contains too many tags: at most %d are allowed.", maxTags)
	}
	out := map[string]string{}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 {
			return nil, clientError(awserr.InvalidTag, "Tag keys must be 1 to 128 characters long.")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, clientError(awserr.InvalidTag, "Tag keys beginning with aws: are reserved.")
		}
		v := ""
		if t.Value != nil {
			v = *t.Value
		}
		if len(v) > 256 {
			return nil, clientError(awserr.InvalidTag, "Tag values may be at most 256 characters long.")
		}
		out[t.Key] = v
	}
	return out, nil
}

func tagList(m map[string]string) []tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]tag, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		out = append(out, tag{Key: k, Value: &v})
	}
	return out
}

type arnOutput struct {
	CertificateArn string `json:"CertificateArn"`
}

func (s *Service) importCertificate(r *http.Request, body []byte) (any, error) {
	var in struct {
		CertificateArn   string
		Certificate      []byte
		PrivateKey       []byte
		CertificateChain []byte
		Tags             []tag
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	m, err := parseImport(in.Certificate, in.PrivateKey, in.CertificateChain)
	if err != nil {
		return nil, err
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var c model.Certificate
	_, err = s.st.Update(r.Context(), func(tx store.Tx) error {
		var id string
		if in.CertificateArn != "" {
			var err error
			if id, c, err = s.getCert(tx, in.CertificateArn); err != nil {
				return err
			}
			if c.Type != model.CertImported {
				return validation("Certificate %s was not imported: only imported certificates can be re-imported.", c.ARN)
			}
			if len(in.Tags) > 0 {
				return clientError(awserr.InvalidParameter, "Tags cannot be specified when re-importing a certificate.")
			}
		} else {
			var err error
			if id, err = newID(); err != nil {
				return err
			}
			c = model.Certificate{ARN: s.arn(id), Type: model.CertImported, CreatedAt: now, Tags: tags}
			if len(tags) == 0 {
				c.Tags = nil
			}
		}
		c.Status = "ISSUED"
		c.ImportedAt = now
		c.CertificatePEM, c.ChainPEM, c.PrivateKeyPEM = m.leafPEM, m.chainPEM, model.Secret(m.keyPEM)
		c.KeyAlgorithm = m.keyAlg
		fill(&c, m.leaf)
		return store.PutJSON(tx, model.CertKey(id), c)
	})
	if err != nil {
		return nil, err
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "certificate imported",
		slog.String("arn", c.ARN), slog.String("domain", c.DomainName), slog.Time("not_after", c.NotAfter), slog.Bool("reimport", in.CertificateArn != ""))
	return arnOutput{c.ARN}, nil
}

type certificateDetail struct {
	CertificateArn          string             `json:"CertificateArn"`
	DomainName              string             `json:"DomainName"`
	SubjectAlternativeNames []string           `json:"SubjectAlternativeNames"`
	DomainValidationOptions []domainValidation `json:"DomainValidationOptions,omitempty"`
	Serial                  string             `json:"Serial"`
	Subject                 string             `json:"Subject"`
	Issuer                  string             `json:"Issuer"`
	CreatedAt               *epoch             `json:"CreatedAt,omitempty"`
	IssuedAt                *epoch             `json:"IssuedAt,omitempty"`
	ImportedAt              *epoch             `json:"ImportedAt,omitempty"`
	Status                  string             `json:"Status"`
	NotBefore               *epoch             `json:"NotBefore,omitempty"`
	NotAfter                *epoch             `json:"NotAfter,omitempty"`
	KeyAlgorithm            string             `json:"KeyAlgorithm"`
	SignatureAlgorithm      string             `json:"SignatureAlgorithm"`
	InUseBy                 []string           `json:"InUseBy"`
	Type                    string             `json:"Type"`
	KeyUsages               []name             `json:"KeyUsages"`
	ExtendedKeyUsages       []extendedKeyUsage `json:"ExtendedKeyUsages"`
	RenewalEligibility      string             `json:"RenewalEligibility"`
}

type domainValidation struct {
	DomainName       string `json:"DomainName"`
	ValidationDomain string `json:"ValidationDomain"`
	ValidationStatus string `json:"ValidationStatus"`
	ValidationMethod string `json:"ValidationMethod"`
}

func (s *Service) detail(c model.Certificate, inUse []string) certificateDetail {
	d := certificateDetail{
		CertificateArn: c.ARN, DomainName: c.DomainName, SubjectAlternativeNames: c.SANs,
		Serial: c.Serial, Subject: c.Subject, Issuer: c.Issuer, CreatedAt: epochPtr(c.CreatedAt),
		Status: status(c, s.now()), NotBefore: epochPtr(c.NotBefore), NotAfter: epochPtr(c.NotAfter),
		KeyAlgorithm: c.KeyAlgorithm, SignatureAlgorithm: c.SignatureAlgorithm, InUseBy: inUse,
		Type: c.Type, RenewalEligibility: "INELIGIBLE", KeyUsages: []name{}, ExtendedKeyUsages: []extendedKeyUsage{},
	}
	if d.InUseBy == nil {
		d.InUseBy = []string{}
	}
	if d.SubjectAlternativeNames == nil {
		d.SubjectAlternativeNames = []string{}
	}
	if c.Type == model.CertImported {
		d.ImportedAt = epochPtr(c.ImportedAt)
	} else {
		d.IssuedAt = epochPtr(c.CreatedAt)
		for _, n := range c.SANs {
			d.DomainValidationOptions = append(d.DomainValidationOptions, domainValidation{
				DomainName: n, ValidationDomain: strings.TrimPrefix(n, "*."), ValidationStatus: "SUCCESS", ValidationMethod: "DNS",
			})
		}
	}
	if certs, err := parseCerts([]byte(c.CertificatePEM)); err == nil && len(certs) > 0 {
		d.KeyUsages, d.ExtendedKeyUsages = usages(certs[0])
	}
	return d
}

type arnInput struct {
	CertificateArn string
}

func (s *Service) describeCertificate(r *http.Request, body []byte) (any, error) {
	var in arnInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var out certificateDetail
	_, err := s.st.View(r.Context(), func(tx store.Tx) error {
		_, c, err := s.getCert(tx, in.CertificateArn)
		if err != nil {
			return err
		}
		uses, err := s.inUseBy(tx)
		if err != nil {
			return err
		}
		out = s.detail(c, uses[c.ARN])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct {
		Certificate certificateDetail `json:"Certificate"`
	}{out}, nil
}

func (s *Service) getCertificate(r *http.Request, body []byte) (any, error) {
	var in arnInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c model.Certificate
	_, err := s.st.View(r.Context(), func(tx store.Tx) error {
		var err error
		_, c, err = s.getCert(tx, in.CertificateArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	if c.CertificatePEM == "" {
		return nil, clientError(codeRequestInProcess, "Certificate %s is not yet issued.", c.ARN)
	}
	return struct {
		Certificate      string `json:"Certificate"`
		CertificateChain string `json:"CertificateChain,omitempty"`
	}{c.CertificatePEM, c.ChainPEM}, nil
}

type certificateSummary struct {
	CertificateArn                      string   `json:"CertificateArn"`
	DomainName                          string   `json:"DomainName"`
	SubjectAlternativeNameSummaries     []string `json:"SubjectAlternativeNameSummaries"`
	HasAdditionalSubjectAlternativeName bool     `json:"HasAdditionalSubjectAlternativeNames"`
	Status                              string   `json:"Status"`
	Type                                string   `json:"Type"`
	KeyAlgorithm                        string   `json:"KeyAlgorithm"`
	KeyUsages                           []string `json:"KeyUsages"`
	ExtendedKeyUsages                   []string `json:"ExtendedKeyUsages"`
	InUse                               bool     `json:"InUse"`
	RenewalEligibility                  string   `json:"RenewalEligibility"`
	NotBefore                           *epoch   `json:"NotBefore,omitempty"`
	NotAfter                            *epoch   `json:"NotAfter,omitempty"`
	CreatedAt                           *epoch   `json:"CreatedAt,omitempty"`
	IssuedAt                            *epoch   `json:"IssuedAt,omitempty"`
	ImportedAt                          *epoch   `json:"ImportedAt,omitempty"`
}

// listCertificates returns every certificate by default; unlike ACM, which
// lists only RSA_1024/RSA_2048 ones unless Includes.keyTypes says otherwise,
// so an EC certificate imported for a domain shows up without a filter.
func (s *Service) listCertificates(r *http.Request, body []byte) (any, error) {
	var in struct {
		CertificateStatuses []string
		Includes            *struct {
			KeyTypes []string `json:"keyTypes"`
		}
		NextToken string
		MaxItems  *int
		SortBy    string
		SortOrder string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	max := 1000
	if in.MaxItems != nil {
		if *in.MaxItems < 1 || *in.MaxItems > 1000 {
			return nil, validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *in.MaxItems)
		}
		max = *in.MaxItems
	}
	offset := 0
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return nil, clientError(codeInvalidArgs, "The nextToken is not valid.")
		}
		offset = n
	}
	want := func(list []string, v string) bool {
		if len(list) == 0 {
			return true
		}
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	var keyTypes []string
	if in.Includes != nil {
		keyTypes = in.Includes.KeyTypes
	}
	var (
		certs []model.Certificate
		uses  map[string][]string
	)
	_, err := s.st.View(r.Context(), func(tx store.Tx) error {
		var err error
		if certs, err = store.ListJSON[model.Certificate](tx, model.PrefixCerts); err != nil {
			return err
		}
		uses, err = s.inUseBy(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(certs, func(i, j int) bool {
		if !certs[i].CreatedAt.Equal(certs[j].CreatedAt) {
			return certs[i].CreatedAt.Before(certs[j].CreatedAt)
		}
		return certs[i].ARN < certs[j].ARN
	})
	if in.SortOrder == "DESCENDING" {
		for i, j := 0, len(certs)-1; i < j; i, j = i+1, j-1 {
			certs[i], certs[j] = certs[j], certs[i]
		}
	}
	now := s.now()
	list := []certificateSummary{}
	for _, c := range certs {
		st := status(c, now)
		if !want(in.CertificateStatuses, st) || !want(keyTypes, c.KeyAlgorithm) {
			continue
		}
		sum := certificateSummary{
			CertificateArn: c.ARN, DomainName: c.DomainName, SubjectAlternativeNameSummaries: c.SANs,
			Status: st, Type: c.Type, KeyAlgorithm: c.KeyAlgorithm, InUse: len(uses[c.ARN]) > 0,
			RenewalEligibility: "INELIGIBLE", NotBefore: epochPtr(c.NotBefore), NotAfter: epochPtr(c.NotAfter),
			CreatedAt: epochPtr(c.CreatedAt), KeyUsages: []string{}, ExtendedKeyUsages: []string{},
		}
		if sum.SubjectAlternativeNameSummaries == nil {
			sum.SubjectAlternativeNameSummaries = []string{}
		}
		if c.Type == model.CertImported {
			sum.ImportedAt = epochPtr(c.ImportedAt)
		} else {
			sum.IssuedAt = epochPtr(c.CreatedAt)
		}
		if parsed, err := parseCerts([]byte(c.CertificatePEM)); err == nil && len(parsed) > 0 {
			ku, eku := usages(parsed[0])
			for _, u := range ku {
				sum.KeyUsages = append(sum.KeyUsages, u.Name)
			}
			for _, u := range eku {
				sum.ExtendedKeyUsages = append(sum.ExtendedKeyUsages, u.Name)
			}
		}
		list = append(list, sum)
	}
	out := struct {
		NextToken              string               `json:"NextToken,omitempty"`
		CertificateSummaryList []certificateSummary `json:"CertificateSummaryList"`
	}{CertificateSummaryList: []certificateSummary{}}
	if offset < len(list) {
		end := min(offset+max, len(list))
		out.CertificateSummaryList = list[offset:end]
		if end < len(list) {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
		}
	}
	return out, nil
}

func (s *Service) deleteCertificate(r *http.Request, body []byte) (any, error) {
	var in arnInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	_, err := s.st.Update(r.Context(), func(tx store.Tx) error {
		id, c, err := s.getCert(tx, in.CertificateArn)
		if err != nil {
			return err
		}
		uses, err := s.inUseBy(tx)
		if err != nil {
			return err
		}
		if u := uses[c.ARN]; len(u) > 0 {
			return clientError(awserr.ResourceInUse, "Certificate %s in use by %s", c.ARN, strings.Join(u, ", "))
		}
		return tx.Delete(model.CertKey(id))
	})
	if err != nil {
		return nil, err
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "certificate deleted", slog.String("arn", in.CertificateArn))
	return struct{}{}, nil
}

// domainPattern is ACM's DomainNameString pattern (a wildcard label first
// at most, then at least two labels).
var domainPattern = regexp.MustCompile(`^(\*\.)?(([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9])\.)+([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9])$`)

func validDomain(field, n string) error {
	if len(n) < 1 || len(n) > 253 || !domainPattern.MatchString(n) {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\*\\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])", truncate(n, 260), field)
	}
	return nil
}

// requestCertificate issues at once from trustgate's local CA: the
// certificate is ISSUED, of Type PRIVATE, whatever validation method is
// asked for. KeyAlgorithm and IdempotencyToken are not honoured.
func (s *Service) requestCertificate(r *http.Request, body []byte) (any, error) {
	var in struct {
		DomainName              string
		SubjectAlternativeNames []string
		Tags                    []tag
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.DomainName == "" {
		return nil, validation("1 validation error detected: Value null at 'domainName' failed to satisfy constraint: Member must not be null")
	}
	if err := validDomain("domainName", in.DomainName); err != nil {
		return nil, err
	}
	if len(in.SubjectAlternativeNames) > 100 {
		return nil, validation("1 validation error detected: Value at 'subjectAlternativeNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	names := []string{in.DomainName}
	seen := map[string]bool{strings.ToLower(in.DomainName): true}
	for _, n := range in.SubjectAlternativeNames {
		if err := validDomain("subjectAlternativeNames", n); err != nil {
			return nil, err
		}
		if !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			names = append(names, n)
		}
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	if s.issuer == nil {
		return nil, validation("RequestCertificate needs trustgate's local certificate authority, which is not configured.")
	}
	certPEM, keyPEM, chainPEM, err := s.issuer.Issue(names)
	if err != nil {
		return nil, fmt.Errorf("issuing certificate for %v: %w", names, err)
	}
	certs, err := parseCerts(certPEM)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("local CA issued an unreadable certificate: %w", err)
	}
	alg, err := keyAlgorithm(certs[0].PublicKey)
	if err != nil {
		return nil, fmt.Errorf("local CA issued an unsupported key: %w", err)
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := model.Certificate{
		ARN: s.arn(id), Type: model.CertPrivate, Status: "ISSUED", CreatedAt: now,
		CertificatePEM: pemCerts(certs[:1]), PrivateKeyPEM: model.Secret(keyPEM), KeyAlgorithm: alg, Tags: tags,
	}
	if chain, err := parseCerts(chainPEM); err == nil {
		c.ChainPEM = pemCerts(append(certs[1:], chain...))
	}
	if len(tags) == 0 {
		c.Tags = nil
	}
	fill(&c, certs[0])
	c.DomainName, c.SANs = in.DomainName, names
	if _, err := s.st.Update(r.Context(), func(tx store.Tx) error { return store.PutJSON(tx, model.CertKey(id), c) }); err != nil {
		return nil, err
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "certificate issued by local CA",
		slog.String("arn", c.ARN), slog.Any("names", names), slog.Time("not_after", c.NotAfter))
	return arnOutput{c.ARN}, nil
}

type tagsInput struct {
	CertificateArn string
	Tags           []tag
}

func (s *Service) addTags(r *http.Request, body []byte) (any, error) {
	var in tagsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	add, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.updateCert(r, in.CertificateArn, func(c *model.Certificate) error {
		if c.Tags == nil {
			c.Tags = map[string]string{}
		}
		for k, v := range add {
			c.Tags[k] = v
		}
		if len(c.Tags) > maxTags {
			return clientError(awserr.TooManyTags, "The certificate would have more than %d tags.", maxTags)
		}
		return nil
	})
}

func (s *Service) removeTags(r *http.Request, body []byte) (any, error) {
	var in tagsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return struct{}{}, s.updateCert(r, in.CertificateArn, func(c *model.Certificate) error {
		for _, t := range in.Tags {
			if v, ok := c.Tags[t.Key]; ok && (t.Value == nil || *t.Value == v) {
				delete(c.Tags, t.Key)
			}
		}
		if len(c.Tags) == 0 {
			c.Tags = nil
		}
		return nil
	})
}

func (s *Service) listTags(r *http.Request, body []byte) (any, error) {
	var in arnInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var c model.Certificate
	_, err := s.st.View(r.Context(), func(tx store.Tx) error {
		var err error
		_, c, err = s.getCert(tx, in.CertificateArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return struct {
		Tags []tag `json:"Tags"`
	}{tagList(c.Tags)}, nil
}

func (s *Service) updateCert(r *http.Request, arn string, change func(*model.Certificate) error) error {
	_, err := s.st.Update(r.Context(), func(tx store.Tx) error {
		id, c, err := s.getCert(tx, arn)
		if err != nil {
			return err
		}
		if err := change(&c); err != nil {
			return err
		}
		return store.PutJSON(tx, model.CertKey(id), c)
	})
	return err
}

// exportCertificate is refused: private keys never leave trustgate.
func (s *Service) exportCertificate(r *http.Request, body []byte) (any, error) {
	return nil, validation("ExportCertificate is not supported: trustgate never returns private keys.")
}
