package apigw

import (
	"encoding/json"
	"net/http"
	"strings"

	"trustgate/internal/model"
)

// domainConfigV2In is a DomainNameConfiguration as a client sends it. The
// output-only members are accepted (clients echo them back) and ignored.
type domainConfigV2In struct {
	APIGatewayDomainName                string          `json:"apiGatewayDomainName"`
	CertificateARN                      string          `json:"certificateArn"`
	CertificateName                     string          `json:"certificateName"`
	CertificateUploadDate               json.RawMessage `json:"certificateUploadDate"`
	DomainNameStatus                    string          `json:"domainNameStatus"`
	DomainNameStatusMessage             string          `json:"domainNameStatusMessage"`
	EndpointType                        string          `json:"endpointType"`
	HostedZoneID                        string          `json:"hostedZoneId"`
	IPAddressType                       string          `json:"ipAddressType"`
	SecurityPolicy                      string          `json:"securityPolicy"`
	OwnershipVerificationCertificateARN string          `json:"ownershipVerificationCertificateArn"`
}

type createDomainNameV2Input struct {
	DomainName               string             `json:"domainName"`
	DomainNameConfigurations []domainConfigV2In `json:"domainNameConfigurations"`
	MutualTLSAuthentication  *mutualTLSInput    `json:"mutualTlsAuthentication"`
	RoutingMode              string             `json:"routingMode"`
	Tags                     map[string]string  `json:"tags"`
}

type updateDomainNameV2Input struct {
	DomainNameConfigurations []domainConfigV2In `json:"domainNameConfigurations"`
	MutualTLSAuthentication  *mutualTLSInput    `json:"mutualTlsAuthentication"`
	RoutingMode              string             `json:"routingMode"`
}

type domainConfigV2Out struct {
	APIGatewayDomainName                string   `json:"apiGatewayDomainName"`
	CertificateARN                      string   `json:"certificateArn"`
	CertificateName                     string   `json:"certificateName,omitempty"`
	CertificateUploadDate               *isoTime `json:"certificateUploadDate,omitempty"`
	DomainNameStatus                    string   `json:"domainNameStatus"`
	DomainNameStatusMessage             string   `json:"domainNameStatusMessage,omitempty"`
	EndpointType                        string   `json:"endpointType"`
	HostedZoneID                        string   `json:"hostedZoneId"`
	IPAddressType                       string   `json:"ipAddressType"`
	SecurityPolicy                      string   `json:"securityPolicy"`
	OwnershipVerificationCertificateARN string   `json:"ownershipVerificationCertificateArn,omitempty"`
}

type domainV2Out struct {
	APIMappingSelectionExpression string              `json:"apiMappingSelectionExpression"`
	DomainName                    string              `json:"domainName"`
	DomainNameARN                 string              `json:"domainNameArn"`
	DomainNameConfigurations      []domainConfigV2Out `json:"domainNameConfigurations"`
	MutualTLSAuthentication       *mtlsOut            `json:"mutualTlsAuthentication,omitempty"`
	RoutingMode                   string              `json:"routingMode"`
	Tags                          map[string]string   `json:"tags,omitempty"`
}

func (s *Service) domainV2View(d model.DomainName) domainV2Out {
	h := s.healthOf(d)
	return domainV2Out{
		APIMappingSelectionExpression: "$request.basepath",
		DomainName:                    d.Name,
		DomainNameARN:                 s.domainARN(d.Name),
		DomainNameConfigurations: []domainConfigV2Out{{
			APIGatewayDomainName:                s.regionalDomainName(d),
			CertificateARN:                      d.CertificateARN,
			CertificateName:                     d.CertificateName,
			CertificateUploadDate:               iso(d.CreatedDate),
			DomainNameStatus:                    domainStatus(d),
			DomainNameStatusMessage:             statusMessage(d, h),
			EndpointType:                        d.EndpointType,
			HostedZoneID:                        model.RegionalHostedZoneID(s.region),
			IPAddressType:                       "ipv4",
			SecurityPolicy:                      d.SecurityPolicy,
			OwnershipVerificationCertificateARN: d.OwnershipCertificate,
		}},
		MutualTLSAuthentication: s.mtlsView(d, h),
		RoutingMode:             routingBasePathV2,
		Tags:                    tagsOrNil(d.Tags),
	}
}

// routingModeV2 maps v2's spelling of the routing mode onto the stored (v1)
// one; other modes pass through and are refused by validate.
func routingModeV2(v string) string {
	switch v {
	case "", routingBasePathV2:
		return routingBasePathV1
	}
	return v
}

// applyConfigV2 writes a v2 domain name configuration onto a spec; empty
// members keep what the spec has.
func (sp *domainSpec) applyConfigV2(cfgs []domainConfigV2In) error {
	if len(cfgs) != 1 {
		return badRequest("Invalid input. Expected one domain name configuration")
	}
	c := cfgs[0]
	if c.CertificateARN != "" {
		sp.certARN = c.CertificateARN
	}
	if c.CertificateName != "" {
		sp.certName = c.CertificateName
	}
	if c.EndpointType != "" {
		sp.endpointType = c.EndpointType
	}
	if c.SecurityPolicy != "" {
		sp.policy = c.SecurityPolicy
	}
	if c.OwnershipVerificationCertificateARN != "" {
		sp.ownershipARN = c.OwnershipVerificationCertificateARN
	}
	return nil
}

func (s *Service) createDomainNameV2(w http.ResponseWriter, r *http.Request) error {
	var in createDomainNameV2Input
	if err := decode(r, &in); err != nil {
		return err
	}
	sp := &domainSpec{
		name:         strings.ToLower(in.DomainName),
		endpointType: endpointRegional,
		policy:       model.PolicyTLS12,
		routingMode:  routingModeV2(in.RoutingMode),
		tags:         in.Tags,
	}
	if err := sp.applyConfigV2(in.DomainNameConfigurations); err != nil {
		return err
	}
	sp.setMutualTLS(in.MutualTLSAuthentication)
	d, err := s.createDomain(r.Context(), sp, true)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusCreated, s.domainV2View(d))
}

func (s *Service) getDomainNameV2(w http.ResponseWriter, r *http.Request) error {
	d, err := s.getDomain(r.Context(), r.PathValue("domainName"), true)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, s.domainV2View(d))
}

type domainNamesV2Out struct {
	Items     []domainV2Out `json:"items"`
	NextToken string        `json:"nextToken,omitempty"`
}

func (s *Service) getDomainNamesV2(w http.ResponseWriter, r *http.Request) error {
	p, err := v2Page(r)
	if err != nil {
		return err
	}
	all, err := s.listDomains(r.Context())
	if err != nil {
		return err
	}
	page, next := paginate(all, func(d model.DomainName) string { return d.Name }, p)
	out := domainNamesV2Out{Items: make([]domainV2Out, 0, len(page)), NextToken: next}
	for _, d := range page {
		out.Items = append(out.Items, s.domainV2View(d))
	}
	return writeJSON(w, r, http.StatusOK, out)
}

// updateDomainNameV2 applies a v2 update: a domain name configuration
// replaces the given members, mutualTlsAuthentication sets the truststore
// (an empty URI turns mutual TLS off; a version alone re-reads the current
// URI at that version). Omitted members keep their values.
func (s *Service) updateDomainNameV2(w http.ResponseWriter, r *http.Request) error {
	var in updateDomainNameV2Input
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := s.updateDomain(r.Context(), r.PathValue("domainName"), true, func(d model.DomainName) (*domainSpec, error) {
		sp := specOf(d)
		if in.DomainNameConfigurations != nil {
			if err := sp.applyConfigV2(in.DomainNameConfigurations); err != nil {
				return nil, err
			}
		}
		if in.RoutingMode != "" {
			sp.routingMode = routingModeV2(in.RoutingMode)
		}
		sp.setMutualTLS(in.MutualTLSAuthentication)
		return sp, nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, s.domainV2View(d))
}

func (s *Service) deleteDomainNameV2(w http.ResponseWriter, r *http.Request) error {
	if err := s.deleteDomain(r.Context(), r.PathValue("domainName"), true); err != nil {
		return err
	}
	return writeEmpty(w, r, http.StatusNoContent)
}
