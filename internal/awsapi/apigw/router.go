package apigw

import (
	"net/http"
	"net/url"
	"strings"

	"trustgate/internal/awsapi/awserr"
)

// route is one operation: an HTTP method and a path template whose
// "{name}" segments capture one path segment each (set with
// Request.SetPathValue).
type route struct {
	method string
	segs   []string
	op     string
	h      handler
}

func newRoute(method, path, op string, h handler) route {
	return route{method: method, segs: strings.Split(strings.TrimPrefix(path, "/"), "/"), op: op, h: h}
}

// routeTable lists every operation, with the paths and methods of the AWS
// models (apigateway 2015-07-09 and apigatewayv2 2018-11-29).
func (s *Service) routeTable() []route {
	const (
		get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
		api                        = "/restapis/{restapi_id}"
		res                        = api + "/resources/{resource_id}"
		meth                       = res + "/methods/{http_method}"
		integ                      = meth + "/integration"
		dom                        = "/domainnames/{domain_name}"
		bpm                        = dom + "/basepathmappings"
		v2dom                      = "/v2/domainnames/{domainName}"
		v2map                      = v2dom + "/apimappings"
	)
	return []route{
		newRoute(post, "/restapis", "CreateRestApi", s.createRestAPI),
		newRoute(get, "/restapis", "GetRestApis", s.getRestAPIs),
		newRoute(get, api, "GetRestApi", s.getRestAPI),
		newRoute(patch, api, "UpdateRestApi", s.updateRestAPI),
		newRoute(del, api, "DeleteRestApi", s.deleteRestAPI),

		newRoute(get, api+"/resources", "GetResources", s.getResources),
		newRoute(get, res, "GetResource", s.getResource),
		newRoute(post, res, "CreateResource", s.createResource),
		newRoute(patch, res, "UpdateResource", s.updateResource),
		newRoute(del, res, "DeleteResource", s.deleteResource),

		newRoute(put, meth, "PutMethod", s.putMethod),
		newRoute(get, meth, "GetMethod", s.getMethod),
		newRoute(del, meth, "DeleteMethod", s.deleteMethod),
		newRoute(put, meth+"/responses/{status_code}", "PutMethodResponse", s.putMethodResponse),
		newRoute(get, meth+"/responses/{status_code}", "GetMethodResponse", s.getMethodResponse),
		newRoute(del, meth+"/responses/{status_code}", "DeleteMethodResponse", s.deleteMethodResponse),
		newRoute(put, integ, "PutIntegration", s.putIntegration),
		newRoute(get, integ, "GetIntegration", s.getIntegration),
		newRoute(del, integ, "DeleteIntegration", s.deleteIntegration),
		newRoute(put, integ+"/responses/{status_code}", "PutIntegrationResponse", s.putIntegrationResponse),
		newRoute(get, integ+"/responses/{status_code}", "GetIntegrationResponse", s.getIntegrationResponse),
		newRoute(del, integ+"/responses/{status_code}", "DeleteIntegrationResponse", s.deleteIntegrationResponse),

		newRoute(post, api+"/deployments", "CreateDeployment", s.createDeployment),
		newRoute(get, api+"/deployments", "GetDeployments", s.getDeployments),
		newRoute(get, api+"/deployments/{deployment_id}", "GetDeployment", s.getDeployment),

		newRoute(post, api+"/stages", "CreateStage", s.createStage),
		newRoute(get, api+"/stages", "GetStages", s.getStages),
		newRoute(get, api+"/stages/{stage_name}", "GetStage", s.getStage),
		newRoute(patch, api+"/stages/{stage_name}", "UpdateStage", s.updateStage),
		newRoute(del, api+"/stages/{stage_name}", "DeleteStage", s.deleteStage),

		newRoute(post, "/domainnames", "CreateDomainName", s.createDomainNameV1),
		newRoute(get, "/domainnames", "GetDomainNames", s.getDomainNamesV1),
		newRoute(get, dom, "GetDomainName", s.getDomainNameV1),
		newRoute(patch, dom, "UpdateDomainName", s.updateDomainNameV1),
		newRoute(del, dom, "DeleteDomainName", s.deleteDomainNameV1),

		newRoute(post, bpm, "CreateBasePathMapping", s.createBasePathMapping),
		newRoute(get, bpm, "GetBasePathMappings", s.getBasePathMappings),
		newRoute(get, bpm+"/{base_path}", "GetBasePathMapping", s.getBasePathMapping),
		newRoute(patch, bpm+"/{base_path}", "UpdateBasePathMapping", s.updateBasePathMapping),
		newRoute(del, bpm+"/{base_path}", "DeleteBasePathMapping", s.deleteBasePathMapping),

		newRoute(put, "/tags/{resource_arn}", "TagResource", s.tagResourceV1),
		newRoute(del, "/tags/{resource_arn}", "UntagResource", s.untagResourceV1),
		newRoute(get, "/tags/{resource_arn}", "GetTags", s.getTagsV1),

		newRoute(post, "/v2/domainnames", "CreateDomainNameV2", s.createDomainNameV2),
		newRoute(get, "/v2/domainnames", "GetDomainNamesV2", s.getDomainNamesV2),
		newRoute(get, v2dom, "GetDomainNameV2", s.getDomainNameV2),
		newRoute(patch, v2dom, "UpdateDomainNameV2", s.updateDomainNameV2),
		newRoute(del, v2dom, "DeleteDomainNameV2", s.deleteDomainNameV2),

		newRoute(post, v2map, "CreateApiMapping", s.createAPIMapping),
		newRoute(get, v2map, "GetApiMappings", s.getAPIMappings),
		newRoute(get, v2map+"/{apiMappingId}", "GetApiMapping", s.getAPIMapping),
		newRoute(patch, v2map+"/{apiMappingId}", "UpdateApiMapping", s.updateAPIMapping),
		newRoute(del, v2map+"/{apiMappingId}", "DeleteApiMapping", s.deleteAPIMapping),

		newRoute(post, "/v2/tags/{resource-arn}", "TagResourceV2", s.tagResourceV2),
		newRoute(del, "/v2/tags/{resource-arn}", "UntagResourceV2", s.untagResourceV2),
		newRoute(get, "/v2/tags/{resource-arn}", "GetTagsV2", s.getTagsV2),
	}
}

// match finds the operation for r and sets its path values. The path is
// split on its escaped form and each segment unescaped on its own, so an
// encoded "/" (%2F) in an ARN or a multi-level base path stays inside its
// segment, as the SDKs intend when they encode path labels.
func (s *Service) match(req *http.Request) (*route, error) {
	raw := strings.Split(strings.TrimPrefix(req.URL.EscapedPath(), "/"), "/")
	segs := make([]string, len(raw))
	for i, p := range raw {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, unknownOperation(req)
		}
		segs[i] = u
	}
	for i := range s.routes {
		rt := &s.routes[i]
		if rt.method != req.Method || len(rt.segs) != len(segs) {
			continue
		}
		if !segmentsMatch(rt.segs, segs) {
			continue
		}
		for j, t := range rt.segs {
			if name, ok := param(t); ok {
				req.SetPathValue(name, segs[j])
			}
		}
		return rt, nil
	}
	return nil, unknownOperation(req)
}

func segmentsMatch(tmpl, segs []string) bool {
	for j, t := range tmpl {
		if _, ok := param(t); ok {
			if segs[j] == "" {
				return false
			}
			continue
		}
		if t != segs[j] {
			return false
		}
	}
	return true
}

func param(t string) (string, bool) {
	if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
		return t[1 : len(t)-1], true
	}
	return "", false
}

// unknownOperation is API Gateway's answer to a signed request that names no
// operation: 404 UnknownOperationException (the awserr table's 400 is the
// JSON-1.1 services' status; REST-JSON API Gateway answers 404).
func unknownOperation(req *http.Request) error {
	return &awserr.Error{
		Code:    awserr.UnknownOperation,
		Message: "No operation matches " + req.Method + " " + req.URL.EscapedPath(),
		Status:  http.StatusNotFound,
	}
}
