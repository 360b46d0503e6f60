package route53

import "encoding/xml"

// xmlns is the namespace of every Route 53 request and response document.
const xmlns = "https://route53.amazonaws.com/doc/2013-04-01/"

// Requests. Element names follow the model; the namespace is not checked
// (the CLI and the SDKs always send it).

type createHostedZoneRequest struct {
	XMLName          xml.Name          `xml:"CreateHostedZoneRequest"`
	Name             *string           `xml:"Name"`
	CallerReference  *string           `xml:"CallerReference"`
	VPC              *struct{}         `xml:"VPC"`
	HostedZoneConfig *hostedZoneConfig `xml:"HostedZoneConfig"`
	DelegationSetID  *string           `xml:"DelegationSetId"`
}

type changeRRSetsRequest struct {
	XMLName     xml.Name     `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch *changeBatch `xml:"ChangeBatch"`
}

type changeBatch struct {
	Comment string       `xml:"Comment"`
	Changes *changesList `xml:"Changes"`
}

type changesList struct {
	Change []change `xml:"Change"`
}

type change struct {
	Action            *string   `xml:"Action"`
	ResourceRecordSet *rrsetXML `xml:"ResourceRecordSet"`
}

// Responses.

type hostedZoneConfig struct {
	Comment     string `xml:"Comment,omitempty"`
	PrivateZone *bool  `xml:"PrivateZone"`
}

type hostedZoneXML struct {
	ID                     string            `xml:"Id"`
	Name                   string            `xml:"Name"`
	CallerReference        string            `xml:"CallerReference"`
	Config                 *hostedZoneConfig `xml:"Config,omitempty"`
	ResourceRecordSetCount int64             `xml:"ResourceRecordSetCount"`
}

type changeInfoXML struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

type delegationSetXML struct {
	NameServers []string `xml:"NameServers>NameServer"`
}

type createHostedZoneResponse struct {
	XMLName       xml.Name         `xml:"CreateHostedZoneResponse"`
	Xmlns         string           `xml:"xmlns,attr"`
	HostedZone    hostedZoneXML    `xml:"HostedZone"`
	ChangeInfo    changeInfoXML    `xml:"ChangeInfo"`
	DelegationSet delegationSetXML `xml:"DelegationSet"`
}

type getHostedZoneResponse struct {
	XMLName       xml.Name         `xml:"GetHostedZoneResponse"`
	Xmlns         string           `xml:"xmlns,attr"`
	HostedZone    hostedZoneXML    `xml:"HostedZone"`
	DelegationSet delegationSetXML `xml:"DelegationSet"`
}

type listHostedZonesResponse struct {
	XMLName     xml.Name       `xml:"ListHostedZonesResponse"`
	Xmlns       string         `xml:"xmlns,attr"`
	HostedZones hostedZoneList `xml:"HostedZones"`
	Marker      string         `xml:"Marker"`
	IsTruncated bool           `xml:"IsTruncated"`
	NextMarker  string         `xml:"NextMarker,omitempty"`
	MaxItems    string         `xml:"MaxItems"`
}

type listHostedZonesByNameResponse struct {
	XMLName          xml.Name       `xml:"ListHostedZonesByNameResponse"`
	Xmlns            string         `xml:"xmlns,attr"`
	HostedZones      hostedZoneList `xml:"HostedZones"`
	DNSName          string         `xml:"DNSName,omitempty"`
	HostedZoneID     string         `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool           `xml:"IsTruncated"`
	NextDNSName      string         `xml:"NextDNSName,omitempty"`
	NextHostedZoneID string         `xml:"NextHostedZoneId,omitempty"`
	MaxItems         string         `xml:"MaxItems"`
}

type getHostedZoneCountResponse struct {
	XMLName         xml.Name `xml:"GetHostedZoneCountResponse"`
	Xmlns           string   `xml:"xmlns,attr"`
	HostedZoneCount int64    `xml:"HostedZoneCount"`
}

type deleteHostedZoneResponse struct {
	XMLName    xml.Name      `xml:"DeleteHostedZoneResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

type changeRRSetsResponse struct {
	XMLName    xml.Name      `xml:"ChangeResourceRecordSetsResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

type getChangeResponse struct {
	XMLName    xml.Name      `xml:"GetChangeResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

// rrsetXML is a ResourceRecordSet in both directions. Routing-policy members
// are decoded only to be refused.
type rrsetXML struct {
	Name                    *string          `xml:"Name"`
	Type                    *string          `xml:"Type"`
	SetIdentifier           *string          `xml:"SetIdentifier,omitempty"`
	Weight                  *string          `xml:"Weight,omitempty"`
	Region                  *string          `xml:"Region,omitempty"`
	GeoLocation             *struct{}        `xml:"GeoLocation,omitempty"`
	Failover                *string          `xml:"Failover,omitempty"`
	MultiValueAnswer        *string          `xml:"MultiValueAnswer,omitempty"`
	TTL                     *string          `xml:"TTL,omitempty"`
	ResourceRecords         *resourceRecords `xml:"ResourceRecords,omitempty"`
	AliasTarget             *aliasTargetXML  `xml:"AliasTarget,omitempty"`
	HealthCheckID           *string          `xml:"HealthCheckId,omitempty"`
	TrafficPolicyInstanceID *string          `xml:"TrafficPolicyInstanceId,omitempty"`
	CidrRoutingConfig       *struct{}        `xml:"CidrRoutingConfig,omitempty"`
	GeoProximityLocation    *struct{}        `xml:"GeoProximityLocation,omitempty"`
}

type resourceRecords struct {
	ResourceRecord []resourceRecord `xml:"ResourceRecord"`
}

type resourceRecord struct {
	Value *string `xml:"Value"`
}

type aliasTargetXML struct {
	HostedZoneID         *string `xml:"HostedZoneId"`
	DNSName              *string `xml:"DNSName"`
	EvaluateTargetHealth *string `xml:"EvaluateTargetHealth"`
}

type listRRSetsResponse struct {
	XMLName              xml.Name  `xml:"ListResourceRecordSetsResponse"`
	Xmlns                string    `xml:"xmlns,attr"`
	ResourceRecordSets   rrsetList `xml:"ResourceRecordSets"`
	IsTruncated          bool      `xml:"IsTruncated"`
	NextRecordName       string    `xml:"NextRecordName,omitempty"`
	NextRecordType       string    `xml:"NextRecordType,omitempty"`
	NextRecordIdentifier string    `xml:"NextRecordIdentifier,omitempty"`
	MaxItems             string    `xml:"MaxItems"`
}

// errorResponse is Route 53's error document.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     errorXML `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type errorXML struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// Lists are wrapped so an empty one still renders as an empty element, as
// Route 53 sends it.
type hostedZoneList struct {
	Items []hostedZoneXML `xml:"HostedZone"`
}

type rrsetList struct {
	Items []rrsetXML `xml:"ResourceRecordSet"`
}
