package apigw

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

var httpMethods = []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"}

func validateHTTPMethod(m string) error {
	if !slices.Contains(httpMethods, m) {
		return badRequest("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
	}
	return nil
}

var authorizationTypes = []string{"NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"}

// Wire shapes of Method, MethodResponse, Integration and IntegrationResponse.
type (
	methodResponseOut struct {
		StatusCode         string            `json:"statusCode"`
		ResponseParameters map[string]bool   `json:"responseParameters,omitempty"`
		ResponseModels     map[string]string `json:"responseModels,omitempty"`
	}
	integrationResponseOut struct {
		StatusCode         string            `json:"statusCode"`
		SelectionPattern   string            `json:"selectionPattern,omitempty"`
		ResponseParameters map[string]string `json:"responseParameters,omitempty"`
		ResponseTemplates  map[string]string `json:"responseTemplates,omitempty"`
		ContentHandling    string            `json:"contentHandling,omitempty"`
	}
	integrationOut struct {
		Type                 string                            `json:"type"`
		HTTPMethod           string                            `json:"httpMethod,omitempty"`
		URI                  string                            `json:"uri,omitempty"`
		ConnectionType       string                            `json:"connectionType,omitempty"`
		ConnectionID         string                            `json:"connectionId,omitempty"`
		Credentials          string                            `json:"credentials,omitempty"`
		RequestParameters    map[string]string                 `json:"requestParameters,omitempty"`
		RequestTemplates     map[string]string                 `json:"requestTemplates,omitempty"`
		PassthroughBehavior  string                            `json:"passthroughBehavior,omitempty"`
		ContentHandling      string                            `json:"contentHandling,omitempty"`
		TimeoutInMillis      int                               `json:"timeoutInMillis"`
		CacheNamespace       string                            `json:"cacheNamespace,omitempty"`
		CacheKeyParameters   []string                          `json:"cacheKeyParameters"`
		IntegrationResponses map[string]integrationResponseOut `json:"integrationResponses,omitempty"`
	}
	methodOut struct {
		HTTPMethod         string                       `json:"httpMethod"`
		AuthorizationType  string                       `json:"authorizationType"`
		AuthorizerID       string                       `json:"authorizerId,omitempty"`
		APIKeyRequired     bool                         `json:"apiKeyRequired"`
		RequestValidatorID string                       `json:"requestValidatorId,omitempty"`
		OperationName      string                       `json:"operationName,omitempty"`
		RequestParameters  map[string]bool              `json:"requestParameters,omitempty"`
		RequestModels      map[string]string            `json:"requestModels,omitempty"`
		MethodResponses    map[string]methodResponseOut `json:"methodResponses,omitempty"`
		MethodIntegration  *integrationOut              `json:"methodIntegration,omitempty"`
	}
)

func methodResponseView(m *model.MethodResponse) methodResponseOut {
	return methodResponseOut{StatusCode: m.StatusCode, ResponseParameters: m.ResponseParameters, ResponseModels: m.ResponseModels}
}

func integrationResponseView(ir *model.IntegrationResponse) integrationResponseOut {
	return integrationResponseOut{
		StatusCode: ir.StatusCode, SelectionPattern: ir.SelectionPattern, ResponseParameters: ir.ResponseParameters,
		ResponseTemplates: ir.ResponseTemplates, ContentHandling: ir.ContentHandling,
	}
}

func integrationView(in *model.Integration) *integrationOut {
	if in == nil {
		return nil
	}
	out := &integrationOut{
		Type: in.Type, HTTPMethod: in.HTTPMethod, URI: in.URI, ConnectionType: in.ConnectionType,
		ConnectionID: in.ConnectionID, Credentials: in.Credentials, RequestParameters: in.RequestParameters,
		RequestTemplates: in.RequestTemplates, PassthroughBehavior: in.PassthroughBehavior,
		ContentHandling: in.ContentHandling, TimeoutInMillis: in.TimeoutInMillis, CacheNamespace: in.CacheNamespace,
		CacheKeyParameters: in.CacheKeyParameters,
	}
	if out.CacheKeyParameters == nil {
		out.CacheKeyParameters = []string{}
	}
	if len(in.IntegrationResponses) > 0 {
		out.IntegrationResponses = make(map[string]integrationResponseOut, len(in.IntegrationResponses))
		for code, ir := range in.IntegrationResponses {
			out.IntegrationResponses[code] = integrationResponseView(ir)
		}
	}
	return out
}

func methodView(m *model.Method) methodOut {
	out := methodOut{
		HTTPMethod: m.HTTPMethod, AuthorizationType: m.AuthorizationType, AuthorizerID: m.AuthorizerID,
		APIKeyRequired: m.APIKeyRequired, RequestValidatorID: m.RequestValidator, OperationName: m.OperationName,
		RequestParameters: m.RequestParameters, RequestModels: m.RequestModels,
		MethodIntegration: integrationView(m.Integration),
	}
	if len(m.MethodResponses) > 0 {
		out.MethodResponses = make(map[string]methodResponseOut, len(m.MethodResponses))
		for code, mr := range m.MethodResponses {
			out.MethodResponses[code] = methodResponseView(mr)
		}
	}
	return out
}

// methodRef is a loaded method inside its resource, for handlers that change
// it and write the resource back.
type methodRef struct {
	res    model.Resource
	method *model.Method
}

// loadMethod reads the resource and the method named in the path.
func (s *Service) loadMethod(tx store.Tx, r *http.Request) (methodRef, error) {
	res, err := s.loadResource(tx, r.PathValue("restapi_id"), r.PathValue("resource_id"))
	if err != nil {
		return methodRef{}, err
	}
	m, ok := res.Methods[r.PathValue("http_method")]
	if !ok {
		return methodRef{}, errMethodNotFound
	}
	return methodRef{res: res, method: m}, nil
}

func (ref methodRef) save(tx store.Tx) error {
	return store.PutJSON(tx, model.ResourceKey(ref.res.APIID, ref.res.ID), ref.res)
}

type putMethodInput struct {
	AuthorizationType   string            `json:"authorizationType"`
	AuthorizerID        string            `json:"authorizerId"`
	APIKeyRequired      bool              `json:"apiKeyRequired"`
	OperationName       string            `json:"operationName"`
	RequestParameters   map[string]bool   `json:"requestParameters"`
	RequestModels       map[string]string `json:"requestModels"`
	RequestValidatorID  string            `json:"requestValidatorId"`
	AuthorizationScopes []string          `json:"authorizationScopes"`
}

var (
	methodParamRE      = regexp.MustCompile(`^method\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.[^.\s][^\s]*$`)
	methodRespParamRE  = regexp.MustCompile(`^method\.response\.header\.[^\s]+$`)
	integrationParamRE = regexp.MustCompile(`^integration\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.[^\s]+$`)
	statusCodeRE       = regexp.MustCompile(`^[1-5][0-9][0-9]$`)
)

func validateMethodInput(in putMethodInput) error {
	if !slices.Contains(authorizationTypes, in.AuthorizationType) {
		return validationError(in.AuthorizationType, "putMethodInput.authorizationType", authorizationTypes)
	}
	if in.AuthorizationType == "CUSTOM" || in.AuthorizationType == "COGNITO_USER_POOLS" || in.AuthorizerID != "" {
		// trustgate has no authorizers, so no authorizer id can be valid.
		return badRequest("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.")
	}
	if in.RequestValidatorID != "" {
		return badRequest("Invalid Request Validator identifier specified")
	}
	names := map[string]bool{}
	for k := range in.RequestParameters {
		if !methodParamRE.MatchString(k) {
			return badRequest("Invalid method request parameter specified: %s. Expected method.request.{path|querystring|header}.{name}", k)
		}
		name := k[strings.LastIndex(k, ".")+1:]
		if names[name] {
			return badRequest("Parameter names must be unique across querystring, header and path")
		}
		names[name] = true
	}
	for ct, m := range in.RequestModels {
		if m != "Empty" && m != "Error" {
			return badRequest("Invalid model identifier specified: %s", m)
		}
		if ct == "" {
			return badRequest("Invalid content type specified for request model")
		}
	}
	return nil
}

// putMethod adds a method to a resource; like AWS it refuses to overwrite one.
func (s *Service) putMethod(w http.ResponseWriter, r *http.Request) error {
	var in putMethodInput
	if err := decode(r, &in); err != nil {
		return err
	}
	name := r.PathValue("http_method")
	var m *model.Method
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		res, err := s.loadResource(tx, r.PathValue("restapi_id"), r.PathValue("resource_id"))
		if err != nil {
			return err
		}
		if err := validateHTTPMethod(name); err != nil {
			return err
		}
		if err := validateMethodInput(in); err != nil {
			return err
		}
		if _, ok := res.Methods[name]; ok {
			return conflict("Method already exists for this resource")
		}
		m = &model.Method{
			HTTPMethod: name, AuthorizationType: in.AuthorizationType, APIKeyRequired: in.APIKeyRequired,
			OperationName: in.OperationName, RequestParameters: in.RequestParameters, RequestModels: in.RequestModels,
		}
		if res.Methods == nil {
			res.Methods = map[string]*model.Method{}
		}
		res.Methods[name] = m
		return methodRef{res: res}.save(tx)
	})
	if err != nil {
		return wrapInternal(err, "putting method")
	}
	return writeJSON(w, r, http.StatusCreated, methodView(m))
}

func (s *Service) getMethod(w http.ResponseWriter, r *http.Request) error {
	var ref methodRef
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		ref, err = s.loadMethod(tx, r)
		return err
	})
	if err != nil {
		return wrapInternal(err, "reading method")
	}
	return writeJSON(w, r, http.StatusOK, methodView(ref.method))
}

func (s *Service) deleteMethod(w http.ResponseWriter, r *http.Request) error {
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadMethod(tx, r)
		if err != nil {
			return err
		}
		delete(ref.res.Methods, ref.method.HTTPMethod)
		return ref.save(tx)
	})
	if err != nil {
		return wrapInternal(err, "deleting method")
	}
	return writeEmpty(w, r, http.StatusNoContent)
}

func validStatusCode(code string) error {
	if !statusCodeRE.MatchString(code) {
		return badRequest("Invalid status code specified: %s. A status code is three digits from 100 to 599", code)
	}
	return nil
}

type putMethodResponseInput struct {
	ResponseParameters map[string]bool   `json:"responseParameters"`
	ResponseModels     map[string]string `json:"responseModels"`
}

func (s *Service) putMethodResponse(w http.ResponseWriter, r *http.Request) error {
	var in putMethodResponseInput
	if err := decode(r, &in); err != nil {
		return err
	}
	code := r.PathValue("status_code")
	var mr *model.MethodResponse
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadMethod(tx, r)
		if err != nil {
			return err
		}
		if err := validStatusCode(code); err != nil {
			return err
		}
		for k := range in.ResponseParameters {
			if !methodRespParamRE.MatchString(k) {
				return badRequest("Invalid method response parameter specified: %s. Expected method.response.header.{name}", k)
			}
		}
		for _, m := range in.ResponseModels {
			if m != "Empty" && m != "Error" {
				return badRequest("Invalid model identifier specified: %s", m)
			}
		}
		if _, ok := ref.method.MethodResponses[code]; ok {
			return conflict("Response already exists for this resource")
		}
		mr = &model.MethodResponse{StatusCode: code, ResponseParameters: in.ResponseParameters, ResponseModels: in.ResponseModels}
		if ref.method.MethodResponses == nil {
			ref.method.MethodResponses = map[string]*model.MethodResponse{}
		}
		ref.method.MethodResponses[code] = mr
		return ref.save(tx)
	})
	if err != nil {
		return wrapInternal(err, "putting method response")
	}
	return writeJSON(w, r, http.StatusCreated, methodResponseView(mr))
}

func (s *Service) getMethodResponse(w http.ResponseWriter, r *http.Request) error {
	var mr *model.MethodResponse
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadMethod(tx, r)
		if err != nil {
			return err
		}
		var ok bool
		if mr, ok = ref.method.MethodResponses[r.PathValue("status_code")]; !ok {
			return errResponseNotFound
		}
		return nil
	})
	if err != nil {
		return wrapInternal(err, "reading method response")
	}
	return writeJSON(w, r, http.StatusOK, methodResponseView(mr))
}

func (s *Service) deleteMethodResponse(w http.ResponseWriter, r *http.Request) error {
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadMethod(tx, r)
		if err != nil {
			return err
		}
		code := r.PathValue("status_code")
		if _, ok := ref.method.MethodResponses[code]; !ok {
			return errResponseNotFound
		}
		delete(ref.method.MethodResponses, code)
		return ref.save(tx)
	})
	if err != nil {
		return wrapInternal(err, "deleting method response")
	}
	return writeEmpty(w, r, http.StatusNoContent)
}

var integrationTypes = []string{model.IntegrationHTTP, model.IntegrationMock, model.IntegrationAWSProxy, model.IntegrationHTTPProxy, model.IntegrationAWS}

type tlsConfig struct {
	InsecureSkipVerification bool `json:"insecureSkipVerification"`
}

type putIntegrationInput struct {
	Type                 string            `json:"type"`
	HTTPMethod           string            `json:"httpMethod"`
	URI                  string            `json:"uri"`
	ConnectionType       string            `json:"connectionType"`
	ConnectionID         string            `json:"connectionId"`
	Credentials          string            `json:"credentials"`
	RequestParameters    map[string]string `json:"requestParameters"`
	RequestTemplates     map[string]string `json:"requestTemplates"`
	PassthroughBehavior  string            `json:"passthroughBehavior"`
	CacheNamespace       string            `json:"cacheNamespace"`
	CacheKeyParameters   []string          `json:"cacheKeyParameters"`
	ContentHandling      string            `json:"contentHandling"`
	TimeoutInMillis      *int              `json:"timeoutInMillis"`
	TLSConfig            *tlsConfig        `json:"tlsConfig"`
	ResponseTransferMode string            `json:"responseTransferMode"`
	IntegrationTarget    string            `json:"integrationTarget"`
}

const (
	minTimeoutMillis     = 50
	defaultTimeoutMillis = 29000
)

// validateIntegration checks an integration against its method, in AWS's
// order and wording where known.
func validateIntegration(in putIntegrationInput, m *model.Method) error {
	if !slices.Contains(integrationTypes, in.Type) {
		return validationError(in.Type, "putIntegrationInput.type", integrationTypes)
	}
	switch in.Type {
	case model.IntegrationHTTP, model.IntegrationHTTPProxy:
		if in.HTTPMethod == "" {
			return badRequest("Enumeration value for HttpMethod must be non-empty")
		}
		if err := validateHTTPMethod(in.HTTPMethod); err != nil {
			return err
		}
		u, err := url.Parse(in.URI)
		if in.URI == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badRequest("Invalid HTTP endpoint specified for URI")
		}
	case model.IntegrationAWS, model.IntegrationAWSProxy:
		if in.HTTPMethod == "" {
			return badRequest("Enumeration value for HttpMethod must be non-empty")
		}
		if err := validateHTTPMethod(in.HTTPMethod); err != nil {
			return err
		}
		if !strings.HasPrefix(in.URI, "arn:") {
			return badRequest("Invalid ARN specified in the request")
		}
		if !strings.Contains(in.URI, ":path/") && !strings.Contains(in.URI, ":action/") {
			return badRequest("AWS ARN for integration must contain path or action")
		}
		if in.Type == model.IntegrationAWSProxy && !strings.Contains(in.URI, ":lambda:") && !strings.Contains(in.URI, ":firehose:") {
			return badRequest("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.")
		}
	case model.IntegrationMock:
		if in.HTTPMethod != "" {
			if err := validateHTTPMethod(in.HTTPMethod); err != nil {
				return err
			}
		}
	}
	switch in.ConnectionType {
	case "", "INTERNET":
	case "VPC_LINK":
		return badRequest("Connection type VPC_LINK is not supported: trustgate has no VPC links; use INTERNET")
	default:
		return validationError(in.ConnectionType, "putIntegrationInput.connectionType", []string{"INTERNET", "VPC_LINK"})
	}
	if in.TimeoutInMillis != nil && (*in.TimeoutInMillis < minTimeoutMillis || *in.TimeoutInMillis > defaultTimeoutMillis) {
		return badRequest("Timeout should be between %d ms and %d ms", minTimeoutMillis, defaultTimeoutMillis)
	}
	switch in.PassthroughBehavior {
	case "", "WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER":
	default:
		return validationError(in.PassthroughBehavior, "putIntegrationInput.passthroughBehavior", []string{"WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"})
	}
	if err := validateContentHandling(in.ContentHandling); err != nil {
		return err
	}
	for k, v := range in.RequestParameters {
		if !integrationParamRE.MatchString(k) {
			return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", k)
		}
		if err := validateMappingSource(v, m); err != nil {
			return err
		}
	}
	return nil
}

func validateContentHandling(v string) error {
	switch v {
	case "", "CONVERT_TO_BINARY", "CONVERT_TO_TEXT":
		return nil
	}
	return validationError(v, "contentHandling", []string{"CONVERT_TO_BINARY", "CONVERT_TO_TEXT"})
}

// validateMappingSource checks the right-hand side of a request parameter
// mapping: a quoted static value, a context or stage variable, or a method
// request parameter the method declares (AWS refuses undeclared ones).
func validateMappingSource(v string, m *model.Method) error {
	switch {
	case len(v) >= 2 && strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'"):
		return nil
	case strings.HasPrefix(v, "context.") || strings.HasPrefix(v, "stageVariables."):
		return nil
	case strings.HasPrefix(v, "method.request.body"):
		return nil
	case methodParamRE.MatchString(v):
		if _, ok := m.RequestParameters[v]; ok {
			return nil
		}
		return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: %s]", v)
	}
	return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", v)
}

// putIntegration sets (or replaces) a method's integration, with AWS's
// defaults: passthrough WHEN_NO_MATCH, 29 s timeout, INTERNET connections
// for HTTP types, the resource id as cache namespace.
func (s *Service) putIntegration(w http.ResponseWriter, r *http.Request) error {
	var in putIntegrationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var integ *model.Integration
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadMethod(tx, r)
		if err != nil {
			return err
		}
		if err := validateIntegration(in, ref.method); err != nil {
			return err
		}
		integ = &model.Integration{
			Type: in.Type, HTTPMethod: in.HTTPMethod, URI: in.URI, ConnectionType: in.ConnectionType,
			ConnectionID: in.ConnectionID, Credentials: in.Credentials, RequestParameters: in.RequestParameters,
			RequestTemplates: in.RequestTemplates, PassthroughBehavior: in.PassthroughBehavior,
			ContentHandling: in.ContentHandling, TimeoutInMillis: defaultTimeoutMillis,
			CacheNamespace: in.CacheNamespace, CacheKeyParameters: in.CacheKeyParameters,
		}
		if in.TimeoutInMillis != nil {
			integ.TimeoutInMillis = *in.TimeoutInMillis
		}
		if integ.PassthroughBehavior == "" {
			integ.PassthroughBehavior = "WHEN_NO_MATCH"
		}
		if integ.ConnectionType == "" && (in.Type == model.IntegrationHTTP || in.Type == model.IntegrationHTTPProxy) {
			integ.ConnectionType = "INTERNET"
		}
		if integ.CacheNamespace == "" {
			integ.CacheNamespace = ref.res.ID
		}
		ref.method.Integration = integ
		return ref.save(tx)
	})
	if err != nil {
		return wrapInternal(err, "putting integration")
	}
	return writeJSON(w, r, http.StatusCreated, integrationView(integ))
}

func (s *Service) loadIntegration(tx store.Tx, r *http.Request) (methodRef, error) {
	ref, err := s.loadMethod(tx, r)
	if err != nil {
		return ref, err
	}
	if ref.method.Integration == nil {
		return ref, errIntegrationNotFound
	}
	return ref, nil
}

func (s *Service) getIntegration(w http.ResponseWriter, r *http.Request) error {
	var ref methodRef
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		ref, err = s.loadIntegration(tx, r)
		return err
	})
	if err != nil {
		return wrapInternal(err, "reading integration")
	}
	return writeJSON(w, r, http.StatusOK, integrationView(ref.method.Integration))
}

func (s *Service) deleteIntegration(w http.ResponseWriter, r *http.Request) error {
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadIntegration(tx, r)
		if err != nil {
			return err
		}
		ref.method.Integration = nil
		return ref.save(tx)
	})
	if err != nil {
		return wrapInternal(err, "deleting integration")
	}
	return writeEmpty(w, r, http.StatusNoContent)
}

type putIntegrationResponseInput struct {
	SelectionPattern   string            `json:"selectionPattern"`
	ResponseParameters map[string]string `json:"responseParameters"`
	ResponseTemplates  map[string]string `json:"responseTemplates"`
	ContentHandling    string            `json:"contentHandling"`
}

// putIntegrationResponse sets (or replaces) an integration response. Like
// AWS it needs the integration and a method response with the same status.
func (s *Service) putIntegrationResponse(w http.ResponseWriter, r *http.Request) error {
	var in putIntegrationResponseInput
	if err := decode(r, &in); err != nil {
		return err
	}
	code := r.PathValue("status_code")
	var ir *model.IntegrationResponse
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadMethod(tx, r)
		if err != nil {
			return err
		}
		if ref.method.Integration == nil {
			return notFound("No integration defined for method")
		}
		if err := validStatusCode(code); err != nil {
			return err
		}
		if _, ok := ref.method.MethodResponses[code]; !ok {
			return badRequest("Invalid Response status code specified")
		}
		if err := validateContentHandling(in.ContentHandling); err != nil {
			return err
		}
		for k, v := range in.ResponseParameters {
			if !methodRespParamRE.MatchString(k) {
				return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", k)
			}
			if _, ok := ref.method.MethodResponses[code].ResponseParameters[k]; !ok {
				return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: %s]", k)
			}
			if v == "" {
				return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", v)
			}
		}
		ir = &model.IntegrationResponse{
			StatusCode: code, SelectionPattern: in.SelectionPattern, ResponseParameters: in.ResponseParameters,
			ResponseTemplates: in.ResponseTemplates, ContentHandling: in.ContentHandling,
		}
		integ := ref.method.Integration
		if integ.IntegrationResponses == nil {
			integ.IntegrationResponses = map[string]*model.IntegrationResponse{}
		}
		integ.IntegrationResponses[code] = ir
		return ref.save(tx)
	})
	if err != nil {
		return wrapInternal(err, "putting integration response")
	}
	return writeJSON(w, r, http.StatusCreated, integrationResponseView(ir))
}

func (s *Service) getIntegrationResponse(w http.ResponseWriter, r *http.Request) error {
	var ir *model.IntegrationResponse
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadIntegration(tx, r)
		if err != nil {
			return err
		}
		var ok bool
		if ir, ok = ref.method.Integration.IntegrationResponses[r.PathValue("status_code")]; !ok {
			return errResponseNotFound
		}
		return nil
	})
	if err != nil {
		return wrapInternal(err, "reading integration response")
	}
	return writeJSON(w, r, http.StatusOK, integrationResponseView(ir))
}

func (s *Service) deleteIntegrationResponse(w http.ResponseWriter, r *http.Request) error {
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		ref, err := s.loadIntegration(tx, r)
		if err != nil {
			return err
		}
		code := r.PathValue("status_code")
		if _, ok := ref.method.Integration.IntegrationResponses[code]; !ok {
			return errResponseNotFound
		}
		delete(ref.method.Integration.IntegrationResponses, code)
		return ref.save(tx)
	})
	if err != nil {
		return wrapInternal(err, "deleting integration response")
	}
	return writeEmpty(w, r, http.StatusNoContent)
}
