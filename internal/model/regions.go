package model

import "strings"

// regionalHostedZoneIDs are API Gateway's fixed Route 53 hosted zone ids for
// regional endpoints, one per Region, as AWS publishes them in its general
// reference (API Gateway endpoints). Alias records to a domain's
// regionalDomainName name this id.
var regionalHostedZoneIDs = map[string]string{
	"us-east-1":      "Z1UJRXOUMOOFQ8",
	"us-east-2":      "ZOJJZC49E0EPZ",
	"us-west-1":      "Z2MUQ32089INYE",
	"us-west-2":      "Z2OJLYMUO9EFXC",
	"af-south-1":     "Z2DHW2332DAMTN",
	"ap-east-1":      "Z3FD1VL90ND7K5",
	"ap-south-1":     "Z3VO1THU9YC4UR",
	"ap-south-2":     "Z0853509Q1135NJ66RUH",
	"ap-northeast-1": "Z1YSHQZHG15GKL",
	"ap-northeast-2": "Z20JF4UZKIW1U8",
	"ap-northeast-3": "Z22ILHG95FLSZ2",
	"ap-southeast-1": "ZL327KTPIQFUL",
	"ap-southeast-2": "Z2RPCDW04V8134",
	"ap-southeast-3": "Z10132843TYUYSLUG4HA3",
	"ap-southeast-4": "Z092189423Y7RJK61311D",
	"ap-southeast-5": "Z0314042F0KBUTZ3X5HF",
	"ca-central-1":   "Z19DQILCV0OWEC",
	"ca-west-1":      "Z04745493436AWVTG1OQY",
	"eu-central-1":   "Z1U9ULNL0V5AJ3",
	"eu-central-2":   "Z09222482MK253X48U76H",
	"eu-west-1":      "ZLY8HYME6SFDD",
	"eu-west-2":      "ZJ5UAJN8Y3Z2Q",
	"eu-west-3":      "Z3KY65QIEKYHQQ",
	"eu-north-1":     "Z3UWIKFBOOGXPP",
	"eu-south-1":     "Z3BT4WSQ9TDYZV",
	"eu-south-2":     "Z02499852UI5HEQ5JVWX3",
	"il-central-1":   "Z07264553HBI44N5X2CKP",
	"me-south-1":     "Z20ZBPC0SS8806",
	"me-central-1":   "Z08780021BKYYY8U0YHTV",
	"sa-east-1":      "ZCMLWB8V5SYIT",
	"us-gov-west-1":  "Z1K6XKP9SAGWDV",
	"us-gov-east-1":  "Z3SE9ATJYCRCZJ",
}

// LocalHostedZoneID is the regional hosted zone id trustgate answers for a
// Region AWS does not have (a local test region, say).
const LocalHostedZoneID = "Z1UJRXOUMOOFQ8"

// RegionalHostedZoneID returns API Gateway's regional hosted zone id for region.
func RegionalHostedZoneID(region string) string {
	if id, ok := regionalHostedZoneIDs[region]; ok {
		return id
	}
	return LocalHostedZoneID
}

// RegionalDomainName is the gateway's own name for a custom domain:
// d-{id}.execute-api.{region}.{publicDomain}. DNS alias records point here.
func RegionalDomainName(domainID, region, publicDomain string) string {
	return "d-" + domainID + ".execute-api." + region + "." + strings.TrimSuffix(publicDomain, ".")
}

// ExecuteAPIHost is the default endpoint host of an API.
func ExecuteAPIHost(apiID, region, publicDomain string) string {
	return apiID + ".execute-api." + region + "." + strings.TrimSuffix(publicDomain, ".")
}
