package apigw

import (
	"net/http"
	"strings"

	"trustgate/internal/model"
)

type createDomainNameV1Input struct {
	DomainName                          string                 `json:"domainName"`
	CertificateName                     string                 `json:"certificateName"`
	CertificateBody                     string                 `json:"certificateBody"`
	CertificatePrivateKey               string                 `json:"certificatePrivateKey"`
	CertificateChain                    string                 `json:"certificateChain"`
	CertificateARN                      string                 `json:"certificateArn"`
	RegionalCertificateName             string                 `json:"regionalCertificateName"`
	RegionalCertificateARN              string                 `json:"regionalCertificateArn"`
	EndpointConfiguration               *endpointConfiguration `json:"endpointConfiguration"`
	Tags                                map[string]string      `json:"tags"`
	SecurityPolicy                      string                 `json:"securityPolicy"`
	EndpointAccessMode                  string                 `json:"endpointAccessMode"`
	MutualTLSAuthentication             *mutualTLSInput        `json:"mutualTlsAuthentication"`
	OwnershipVerificationCertificateARN string                 `json:"ownershipVerificationCertificateArn"`
	Policy                              string                 `json:"policy"`
	RoutingMode                         string                 `json:"routingMode"`
}

type domainV1Out struct {
	DomainName                          string                 `json:"domainName"`
	CertificateUploadDate               *epochTime             `json:"certificateUploadDate,omitempty"`
	RegionalDomainName                  string                 `json:"regionalDomainName"`
	RegionalHostedZoneID                string                 `json:"regionalHostedZoneId"`
	RegionalCertificateName             string                 `json:"regionalCertificateName,omitempty"`
	RegionalCertificateARN              string                 `json:"regionalCertificateArn"`
	EndpointConfiguration               *endpointConfiguration `json:"endpointConfiguration"`
	DomainNameStatus                    string                 `json:"domainNameStatus"`
	DomainNameStatusMessage             string                 `json:"domainNameStatusMessage,omitempty"`
	SecurityPolicy                      string                 `json:"securityPolicy"`
	Tags                                map[string]string      `json:"tags,omitempty"`
	MutualTLSAuthentication             *mtlsOut               `json:"mutualTlsAuthentication,omitempty"`
	OwnershipVerificationCertificateARN string                 `json:"ownershipVerificationCertificateArn,omitempty"`
	RoutingMode                         string                 `json:"routingMode,omitempty"`
}

func (s *Service) domainV1View(d model.DomainName) domainV1Out {
	routing := d.RoutingMode
	if routing == "" {
		routing = routingBasePathV1
	}
	h := s.healthOf(d)
	return domainV1Out{
		DomainName:                          d.Name,
		CertificateUploadDate:               epoch(d.CreatedDate),
		RegionalDomainName:                  s.regionalDomainName(d),
		RegionalHostedZoneID:                model.RegionalHostedZoneID(s.region),
		RegionalCertificateName:             d.CertificateName,
		RegionalCertificateARN:              d.CertificateARN,
		EndpointConfiguration:               &endpointConfiguration{Types: []string{d.EndpointType}, IPAddressType: "ipv4"},
		DomainNameStatus:                    domainStatus(d),
		DomainNameStatusMessage:             statusMessage(d, h),
		SecurityPolicy:                      d.SecurityPolicy,
		Tags:                                tagsOrNil(d.Tags),
		MutualTLSAuthentication:             s.mtlsView(d, h),
		OwnershipVerificationCertificateARN: d.OwnershipCertificate,
		RoutingMode:                         routing,
	}
}

// specFromV1 turns a v1 CreateDomainName into a spec. The endpoint type is
// REGIONAL unless the request asks otherwise (AWS would default to EDGE,
// which trustgate cannot serve; a request that sets only the edge
// certificateArn is treated as EDGE and refused by name).
func specFromV1(in createDomainNameV1Input) (*domainSpec, error) {
	if in.CertificateBody != "" || in.CertificatePrivateKey != "" || in.CertificateChain != "" {
		return nil, errUnsupportedField("certificateBody", "import the certificate into ACM and pass its ARN as regionalCertificateArn")
	}
	if in.Policy != "" {
		return nil, errUnsupportedField("policy", "resource policies are for PRIVATE domain names, which trustgate does not serve")
	}
	sp := &domainSpec{
		name:         strings.ToLower(in.DomainName),
		certARN:      in.RegionalCertificateARN,
		certName:     in.RegionalCertificateName,
		endpointType: endpointRegional,
		policy:       in.SecurityPolicy,
		ownershipARN: in.OwnershipVerificationCertificateARN,
		routingMode:  in.RoutingMode,
		tags:         in.Tags,
	}
	switch {
	case in.EndpointConfiguration != nil && len(in.EndpointConfiguration.Types) > 1:
		return nil, badRequest("Exactly one endpoint type must be specified, got %d", len(in.EndpointConfiguration.Types))
	case in.EndpointConfiguration != nil && len(in.EndpointConfiguration.Types) == 1:
		sp.endpointType = in.EndpointConfiguration.Types[0]
	case in.CertificateARN != "" && in.RegionalCertificateARN == "":
		sp.endpointType = endpointEdge
	}
	if in.CertificateARN != "" && sp.endpointType == endpointRegional {
		return nil, badRequest("certificateArn is for edge-optimized domain names; pass regionalCertificateArn for a REGIONAL domain name")
	}
	if sp.policy == "" {
		sp.policy = model.PolicyTLS12
	}
	if sp.routingMode == "" {
		sp.routingMode = routingBasePathV1
	}
	sp.setMutualTLS(in.MutualTLSAuthentication)
	return sp, nil
}

func (s *Service) createDomainNameV1(w http.ResponseWriter, r *http.Request) error {
	var in createDomainNameV1Input
	if err := decode(r, &in); err != nil {
		return err
	}
	sp, err := specFromV1(in)
	if err != nil {
		return err
	}
	d, err := s.createDomain(r.Context(), sp, false)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusCreated, s.domainV1View(d))
}

func (s *Service) getDomainNameV1(w http.ResponseWriter, r *http.Request) error {
	d, err := s.getDomain(r.Context(), r.PathValue("domain_name"), false)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, s.domainV1View(d))
}

type domainNamesV1Out struct {
	Items    []domainV1Out `json:"item"`
	Position string        `json:"position,omitempty"`
}

func (s *Service) getDomainNamesV1(w http.ResponseWriter, r *http.Request) error {
	p, err := v1Page(r)
	if err != nil {
		return err
	}
	all, err := s.listDomains(r.Context())
	if err != nil {
		return err
	}
	page, next := paginate(all, func(d model.DomainName) string { return d.Name }, p)
	out := domainNamesV1Out{Items: make([]domainV1Out, 0, len(page)), Position: next}
	for _, d := range page {
		out.Items = append(out.Items, s.domainV1View(d))
	}
	return writeJSON(w, r, http.StatusOK, out)
}

var domainPatchPaths = []string{
	"/regionalCertificateArn", "/regionalCertificateName", "/securityPolicy",
	"/mutualTlsAuthentication/truststoreUri", "/mutualTlsAuthentication/truststoreVersion",
	"/ownershipVerificationCertificateArn", "/endpointConfiguration/types/{type}", "/routingMode",
}

// domainPatch applies v1 patch operations to the spec of a domain. The two
// truststore paths are resolved together after every op is read, so their
// order in the request does not matter: a new URI without a version reads
// the latest version; a new version reads that version of the (new or
// current) URI; an empty URI or removing it turns mutual TLS off.
func domainPatch(ops []patchOp) func(d model.DomainName) (*domainSpec, error) {
	return func(d model.DomainName) (*domainSpec, error) {
		sp := specOf(d)
		var uriOp, verOp *patchOp
		for i := range ops {
			op := ops[i]
			anyOf := func(allowed ...string) error {
				for _, a := range allowed {
					if op.Op == a {
						return nil
					}
				}
				return errPatchOp(op)
			}
			var err error
			switch {
			case op.Path == "/regionalCertificateArn":
				if err = anyOf("add", "replace"); err == nil {
					sp.certARN = op.value()
				}
			case op.Path == "/regionalCertificateName":
				if err = anyOf("add", "replace", "remove"); err == nil {
					sp.certName = op.value()
				}
			case op.Path == "/securityPolicy":
				if err = anyOf("replace"); err == nil {
					sp.policy = op.value()
				}
			case op.Path == "/ownershipVerificationCertificateArn":
				if err = anyOf("add", "replace", "remove"); err == nil {
					sp.ownershipARN = op.value()
					if op.Op == "remove" {
						sp.ownershipARN = ""
					}
				}
			case op.Path == "/routingMode":
				if err = anyOf("replace"); err == nil {
					sp.routingMode = op.value()
				}
			case strings.HasPrefix(op.Path, "/endpointConfiguration/types/"):
				if err = anyOf("replace"); err == nil {
					sp.endpointType = op.value()
				}
			case op.Path == "/mutualTlsAuthentication/truststoreUri":
				if err = anyOf("add", "replace", "remove"); err == nil {
					uriOp = &ops[i]
				}
			case op.Path == "/mutualTlsAuthentication/truststoreVersion":
				if err = anyOf("add", "replace", "remove"); err == nil {
					verOp = &ops[i]
				}
			default:
				err = errPatchPath(op, domainPatchPaths)
			}
			if err != nil {
				return nil, err
			}
		}
		if uriOp == nil && verOp == nil {
			return sp, nil
		}
		in := &mutualTLSInput{}
		uri := sp.truststoreURI
		if uriOp != nil {
			uri = ""
			if uriOp.Op != "remove" {
				uri = uriOp.value()
			}
		}
		in.TruststoreURI = &uri
		if verOp != nil && verOp.Op != "remove" {
			v := verOp.value()
			in.TruststoreVersion = &v
		}
		if verOp != nil && uri == "" && in.TruststoreVersion != nil && *in.TruststoreVersion != "" {
			return nil, badRequest("A truststore version needs a truststore URI: the domain name %s has no mutual TLS authentication", d.Name)
		}
		sp.setMutualTLS(in)
		return sp, nil
	}
}

func (s *Service) updateDomainNameV1(w http.ResponseWriter, r *http.Request) error {
	ops, err := decodePatch(r)
	if err != nil {
		return err
	}
	d, err := s.updateDomain(r.Context(), r.PathValue("domain_name"), false, domainPatch(ops))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, s.domainV1View(d))
}

func (s *Service) deleteDomainNameV1(w http.ResponseWriter, r *http.Request) error {
	if err := s.deleteDomain(r.Context(), r.PathValue("domain_name"), false); err != nil {
		return err
	}
	return writeEmpty(w, r, http.StatusAccepted)
}
