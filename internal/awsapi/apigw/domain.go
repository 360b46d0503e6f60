package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

// Security policies a regional domain may use, and the edge-only ones.
var (
	regionalPolicies = []string{
		model.PolicyTLS10, model.PolicyTLS12,
		"SecurityPolicy_TLS13_1_3_2025_09", "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
		"SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09", "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
		"SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09", "SecurityPolicy_TLS13_1_2_PQ_2025_09",
		"SecurityPolicy_TLS13_1_2_2021_06",
	}
	edgePolicies = []string{"SecurityPolicy_TLS13_2025_EDGE", "SecurityPolicy_TLS12_PFS_2025_EDGE", "SecurityPolicy_TLS12_2018_EDGE"}
)

// Routing modes: the only one trustgate serves is base path (API) mappings.
const (
	routingBasePathV1 = "BASE_PATH_MAPPING_ONLY"
	routingBasePathV2 = "API_MAPPING_ONLY"
	certStatusIssued  = "ISSUED"
)

// domainSpec is the configuration a client asks for, the same for v1 and v2.
type domainSpec struct {
	name          string
	certARN       string
	certName      string
	endpointType  string
	policy        string
	mtls          bool   // mutual TLS wanted
	truststoreURI string // when mtls
	truststoreVer string // requested version, "" for the latest
	refetch       bool   // the truststore must be (re)read
	ownershipARN  string
	routingMode   string
	tags          map[string]string
}

// validate checks what needs no store: names, enums, and that mutual TLS
// has a policy that allows it.
func (sp *domainSpec) validate() error {
	if err := model.ValidateDomainName(sp.name); err != nil {
		return badRequest("%s", err.Error())
	}
	switch sp.endpointType {
	case endpointRegional:
	case endpointEdge, endpointPrivate:
		return badRequest("Endpoint type %s is not supported: trustgate serves REGIONAL custom domain names only", sp.endpointType)
	default:
		return validationError(sp.endpointType, "endpointConfiguration.types", endpointTypes)
	}
	if sp.certARN == "" {
		return badRequest("A regional certificate ARN is required for a REGIONAL domain name")
	}
	switch {
	case slices.Contains(regionalPolicies, sp.policy):
	case slices.Contains(edgePolicies, sp.policy):
		return badRequest("Security policy %s is only for edge-optimized domain names; choose one of [%s]", sp.policy, strings.Join(regionalPolicies, ", "))
	default:
		return validationError(sp.policy, "securityPolicy", append(append([]string{}, regionalPolicies...), edgePolicies...))
	}
	if sp.mtls {
		if sp.policy == model.PolicyTLS10 {
			return badRequest("Mutual TLS authentication is not supported with security policy TLS_1_0. Use TLS_1_2 or a TLS 1.3 security policy.")
		}
		if _, _, err := parseS3URI(sp.truststoreURI); err != nil {
			return err
		}
		if len(sp.truststoreVer) > maxTruststoreVersionLength {
			return badRequest("Invalid truststore version specified: at most %d characters", maxTruststoreVersionLength)
		}
	} else if sp.truststoreVer != "" {
		return badRequest("A truststore version needs a truststore URI")
	}
	if sp.routingMode != routingBasePathV1 {
		return badRequest("Routing mode %s is not supported: trustgate routes by base path mappings only", sp.routingMode)
	}
	return validateTags(sp.tags)
}

// checkCertificate checks, inside a transaction, that the ACM certificate
// exists in this account and Region, is issued, and covers the domain name.
func (s *Service) checkCertificate(tx store.Tx, arn, domain string) (model.Certificate, error) {
	invalid := badRequest("Invalid certificate ARN: %s. Certificate must be in 'ISSUED' state.", arn)
	p, ok := model.ParseCertificateARN(arn)
	if !ok {
		return model.Certificate{}, badRequest("Invalid certificate ARN specified: %s", arn)
	}
	if p.Region != s.region {
		return model.Certificate{}, badRequest("Invalid certificate ARN: %s. A regional domain name needs a certificate in its own Region (%s).", arn, s.region)
	}
	if p.Account != s.account {
		return model.Certificate{}, invalid
	}
	c, err := store.GetJSON[model.Certificate](tx, model.CertKey(p.ID))
	if errors.Is(err, store.ErrNotFound) {
		return c, invalid
	}
	if err != nil {
		return c, err
	}
	if c.Status != certStatusIssued {
		return c, invalid
	}
	if domain != "" && !model.CertificateCovers(c, domain) {
		return c, badRequest("The certificate %s does not cover the domain name %s.", arn, domain)
	}
	return c, nil
}

// checkCertificates checks the serving and the ownership certificates.
func (s *Service) checkCertificates(tx store.Tx, sp *domainSpec) error {
	if _, err := s.checkCertificate(tx, sp.certARN, sp.name); err != nil {
		return err
	}
	if sp.ownershipARN != "" {
		if _, err := s.checkCertificate(tx, sp.ownershipARN, ""); err != nil {
			return err
		}
	}
	return nil
}

// loadDomain reads a domain name; missing is the v1 or v2 NotFound.
func loadDomain(tx store.Tx, name string, v2 bool) (model.DomainName, error) {
	d, err := store.GetJSON[model.DomainName](tx, model.DomainKey(strings.ToLower(name)))
	if errors.Is(err, store.ErrNotFound) {
		if v2 {
			return d, errDomainNotFoundV2
		}
		return d, errDomainNotFound
	}
	return d, err
}

// apply writes the spec onto a domain record.
func (sp *domainSpec) apply(d *model.DomainName, mtls *model.MutualTLS) {
	d.CertificateARN = sp.certARN
	d.CertificateName = sp.certName
	d.EndpointType = sp.endpointType
	d.SecurityPolicy = sp.policy
	d.OwnershipCertificate = sp.ownershipARN
	d.RoutingMode = sp.routingMode
	d.Tags = sp.tags
	switch {
	case !sp.mtls:
		d.MutualTLS = nil
	case mtls != nil:
		d.MutualTLS = mtls
	}
}

// createDomain validates the spec, checks its certificates, reads the
// truststore (outside any transaction: the object store may be this very
// store) and then writes the domain in one transaction that re-checks
// uniqueness and certificates.
func (s *Service) createDomain(ctx context.Context, sp *domainSpec, v2 bool) (model.DomainName, error) {
	conflictErr := conflict("The domain name you provided already exists.")
	if v2 {
		conflictErr = conflict("The domain name resource already exists.")
	}
	if err := sp.validate(); err != nil {
		return model.DomainName{}, err
	}
	if err := s.checkDomainTags(sp.tags); err != nil {
		return model.DomainName{}, err
	}
	check := func(tx store.Tx) error {
		if _, err := tx.Get(model.DomainKey(sp.name)); err == nil {
			return conflictErr
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.checkCertificates(tx, sp)
	}
	if _, err := s.store.View(ctx, check); err != nil {
		return model.DomainName{}, wrapInternal(err, "checking domain name")
	}
	var mtls *model.MutualTLS
	if sp.mtls {
		var err error
		if mtls, err = s.fetchTruststore(ctx, sp.truststoreURI, sp.truststoreVer); err != nil {
			return model.DomainName{}, err
		}
	}
	var d model.DomainName
	_, err := s.store.Update(ctx, func(tx store.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		id, err := model.NewID()
		if err != nil {
			return err
		}
		d = model.DomainName{Name: sp.name, ID: id, CreatedDate: s.now().UTC().Truncate(1e9), Status: model.DomainAvailable}
		sp.apply(&d, mtls)
		return store.PutJSON(tx, model.DomainKey(sp.name), d)
	})
	return d, wrapInternal(err, "creating domain name")
}

// updateDomain reads the domain, lets change turn it into a spec, validates
// and fetches like createDomain, and writes only if nobody changed the
// domain meanwhile (AWS's concurrent-modification answer otherwise). A
// truststore that fails is refused and the old one stays.
func (s *Service) updateDomain(ctx context.Context, name string, v2 bool, change func(d model.DomainName) (*domainSpec, error)) (model.DomainName, error) {
	var before model.DomainName
	var beforeJSON []byte
	var sp *domainSpec
	_, err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if before, err = loadDomain(tx, name, v2); err != nil {
			return err
		}
		if beforeJSON, err = json.Marshal(before); err != nil {
			return err
		}
		if sp, err = change(before); err != nil {
			return err
		}
		if err := sp.validate(); err != nil {
			return err
		}
		return s.checkCertificates(tx, sp)
	})
	if err != nil {
		return model.DomainName{}, wrapInternal(err, "checking domain name update")
	}
	var mtls *model.MutualTLS
	if sp.mtls && sp.refetch {
		if mtls, err = s.fetchTruststore(ctx, sp.truststoreURI, sp.truststoreVer); err != nil {
			return model.DomainName{}, err
		}
	}
	var d model.DomainName
	_, err = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := loadDomain(tx, name, v2)
		if err != nil {
			return err
		}
		curJSON, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		if !bytes.Equal(curJSON, beforeJSON) {
			return errConcurrentModification
		}
		if err := s.checkCertificates(tx, sp); err != nil {
			return err
		}
		d = cur
		sp.apply(&d, mtls)
		// A new configuration deserves a new verdict from the data plane.
		d.Status, d.StatusMessage = model.DomainAvailable, ""
		return store.PutJSON(tx, model.DomainKey(d.Name), d)
	})
	return d, wrapInternal(err, "updating domain name")
}

// specOf is the spec of an existing domain, the start of an update.
func specOf(d model.DomainName) *domainSpec {
	sp := &domainSpec{
		name: d.Name, certARN: d.CertificateARN, certName: d.CertificateName, endpointType: d.EndpointType,
		policy: d.SecurityPolicy, ownershipARN: d.OwnershipCertificate, routingMode: d.RoutingMode,
		tags: cloneMap(d.Tags),
	}
	if sp.routingMode == "" {
		sp.routingMode = routingBasePathV1
	}
	if d.MutualTLS != nil {
		sp.mtls = true
		sp.truststoreURI = d.MutualTLS.TruststoreURI
		sp.truststoreVer = d.MutualTLS.TruststoreVersion
	}
	return sp
}

// deleteDomain removes a domain and its API mappings in one transaction.
func (s *Service) deleteDomain(ctx context.Context, name string, v2 bool) error {
	_, err := s.store.Update(ctx, func(tx store.Tx) error {
		d, err := loadDomain(tx, name, v2)
		if err != nil {
			return err
		}
		if err := deletePrefix(tx, model.MappingsPrefix(d.Name)); err != nil {
			return err
		}
		return tx.Delete(model.DomainKey(d.Name))
	})
	return wrapInternal(err, "deleting domain name")
}

func (s *Service) listDomains(ctx context.Context) ([]model.DomainName, error) {
	var all []model.DomainName
	_, err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		all, err = store.ListJSON[model.DomainName](tx, model.PrefixDomains)
		return err
	})
	return all, wrapInternal(err, "listing domain names")
}

func (s *Service) getDomain(ctx context.Context, name string, v2 bool) (model.DomainName, error) {
	var d model.DomainName
	_, err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		d, err = loadDomain(tx, name, v2)
		return err
	})
	return d, wrapInternal(err, "reading domain name")
}

type mtlsOut struct {
	TruststoreURI      string   `json:"truststoreUri"`
	TruststoreVersion  string   `json:"truststoreVersion,omitempty"`
	TruststoreWarnings []string `json:"truststoreWarnings,omitempty"`
}

// mtlsView is a domain's mutualTlsAuthentication: the stored truststore's
// warnings as of now, plus the data plane's warnings about its CRLs.
func (s *Service) mtlsView(d model.DomainName, h DomainHealth) *mtlsOut {
	m := d.MutualTLS
	if m == nil {
		return nil
	}
	warnings := append(s.currentWarnings(m), h.Warnings...)
	return &mtlsOut{TruststoreURI: m.TruststoreURI, TruststoreVersion: m.TruststoreVersion, TruststoreWarnings: warnings}
}

// healthOf asks the data plane about a domain; the zero DomainHealth when
// there is no data plane or it does not know the domain yet.
func (s *Service) healthOf(d model.DomainName) DomainHealth {
	if s.health == nil {
		return DomainHealth{}
	}
	h, ok := s.health(d.Name)
	if !ok {
		return DomainHealth{}
	}
	return h
}

// statusMessage is domainNameStatusMessage: the data plane's explanation
// when it has one, else the stored message.
func statusMessage(d model.DomainName, h DomainHealth) string {
	if h.Message != "" {
		return h.Message
	}
	return d.StatusMessage
}

// checkDomainTags validates a domain name's trustgate:* tags with the data
// plane's rules.
func (s *Service) checkDomainTags(tags map[string]string) error {
	if s.checkTags == nil {
		return nil
	}
	if err := s.checkTags(tags); err != nil {
		return badRequest("%s", err.Error())
	}
	return nil
}

func (s *Service) regionalDomainName(d model.DomainName) string {
	return model.RegionalDomainName(d.ID, s.region, s.publicDomain)
}

func domainStatus(d model.DomainName) string {
	if d.Status == "" {
		return model.DomainAvailable
	}
	return d.Status
}

// mutualTLSInput is MutualTlsAuthenticationInput of both APIs.
type mutualTLSInput struct {
	TruststoreURI     *string `json:"truststoreUri"`
	TruststoreVersion *string `json:"truststoreVersion"`
}

// setMutualTLS applies a mutualTlsAuthentication input to a spec. Neither
// member set changes nothing; an empty URI turns mutual TLS off; a URI reads
// that truststore at the given version, or the latest when none is given; a
// version alone reads the current truststore at that version.
func (sp *domainSpec) setMutualTLS(in *mutualTLSInput) {
	if in == nil || (in.TruststoreURI == nil && in.TruststoreVersion == nil) {
		return
	}
	uri, ver := "", ""
	if in.TruststoreVersion != nil {
		ver = *in.TruststoreVersion
	}
	switch {
	case in.TruststoreURI != nil:
		uri = *in.TruststoreURI
	case sp.mtls:
		uri = sp.truststoreURI
	}
	sp.mtls = uri != ""
	sp.truststoreURI, sp.truststoreVer = uri, ver
	sp.refetch = sp.mtls // validate refuses a version without a URI
}

func tagsOrNil(t map[string]string) map[string]string {
	if len(t) == 0 {
		return nil
	}
	return t
}

func errUnsupportedField(field, why string) error {
	return badRequest("%s is not supported: %s", field, why)
}
