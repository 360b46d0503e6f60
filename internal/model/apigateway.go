package model

import "time"

// RestAPI is a REST API (API Gateway v1) as edited through the management API.
// What the data plane serves is never this record but a Deployment's frozen copy.
type RestAPI struct {
	ID                        string            `json:"id"`
	Name                      string            `json:"name"`
	Description               string            `json:"description,omitempty"`
	Version                   string            `json:"version,omitempty"`
	CreatedDate               time.Time         `json:"createdDate"`
	APIKeySource              string            `json:"apiKeySource,omitempty"`
	EndpointTypes             []string          `json:"endpointTypes,omitempty"`
	BinaryMediaTypes          []string          `json:"binaryMediaTypes,omitempty"`
	MinimumCompressionSize    *int              `json:"minimumCompressionSize,omitempty"`
	DisableExecuteAPIEndpoint bool              `json:"disableExecuteApiEndpoint"`
	Policy                    string            `json:"policy,omitempty"`
	RootResourceID            string            `json:"rootResourceId"`
	Tags                      map[string]string `json:"tags,omitempty"`
}

// Resource is one node of a REST API's path tree. Path is the full path
// ("/customer/{customer-id}"); the root resource has Path "/" and no PathPart.
type Resource struct {
	ID       string             `json:"id"`
	APIID    string             `json:"apiId"`
	ParentID string             `json:"parentId,omitempty"`
	PathPart string             `json:"pathPart,omitempty"`
	Path     string             `json:"path"`
	Methods  map[string]*Method `json:"methods,omitempty"` // by HTTP method, "ANY" included
}

// Method is a Resource's method with its integration.
type Method struct {
	HTTPMethod        string                     `json:"httpMethod"`
	AuthorizationType string                     `json:"authorizationType"`
	AuthorizerID      string                     `json:"authorizerId,omitempty"`
	APIKeyRequired    bool                       `json:"apiKeyRequired"`
	OperationName     string                     `json:"operationName,omitempty"`
	RequestValidator  string                     `json:"requestValidatorId,omitempty"`
	RequestParameters map[string]bool            `json:"requestParameters,omitempty"`
	RequestModels     map[string]string          `json:"requestModels,omitempty"`
	MethodResponses   map[string]*MethodResponse `json:"methodResponses,omitempty"` // by status code
	Integration       *Integration               `json:"integration,omitempty"`
}

// MethodResponse declares a response a method may return.
type MethodResponse struct {
	StatusCode         string            `json:"statusCode"`
	ResponseParameters map[string]bool   `json:"responseParameters,omitempty"`
	ResponseModels     map[string]string `json:"responseModels,omitempty"`
}

// Integration types.
const (
	IntegrationHTTP      = "HTTP"
	IntegrationHTTPProxy = "HTTP_PROXY"
	IntegrationMock      = "MOCK"
	IntegrationAWS       = "AWS"
	IntegrationAWSProxy  = "AWS_PROXY"
)

// Integration is what a method calls: an HTTP backend or a mock.
type Integration struct {
	Type                 string                          `json:"type"`
	HTTPMethod           string                          `json:"httpMethod,omitempty"`
	URI                  string                          `json:"uri,omitempty"`
	ConnectionType       string                          `json:"connectionType,omitempty"`
	ConnectionID         string                          `json:"connectionId,omitempty"`
	Credentials          string                          `json:"credentials,omitempty"`
	RequestParameters    map[string]string               `json:"requestParameters,omitempty"`
	RequestTemplates     map[string]string               `json:"requestTemplates,omitempty"`
	PassthroughBehavior  string                          `json:"passthroughBehavior,omitempty"`
	ContentHandling      string                          `json:"contentHandling,omitempty"`
	TimeoutInMillis      int                             `json:"timeoutInMillis,omitempty"`
	CacheNamespace       string                          `json:"cacheNamespace,omitempty"`
	CacheKeyParameters   []string                        `json:"cacheKeyParameters,omitempty"`
	IntegrationResponses map[string]*IntegrationResponse `json:"integrationResponses,omitempty"` // by status code
}

// IntegrationResponse maps a backend answer to a method response.
type IntegrationResponse struct {
	StatusCode         string            `json:"statusCode"`
	SelectionPattern   string            `json:"selectionPattern,omitempty"`
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	ResponseTemplates  map[string]string `json:"responseTemplates,omitempty"`
	ContentHandling    string            `json:"contentHandling,omitempty"`
}

// Deployment is an immutable snapshot of a REST API: what a stage serves.
// Editing the API after a deployment changes nothing served until the next one.
type Deployment struct {
	ID          string      `json:"id"`
	APIID       string      `json:"apiId"`
	Description string      `json:"description,omitempty"`
	CreatedDate time.Time   `json:"createdDate"`
	API         DeployedAPI `json:"api"`
}

// DeployedAPI is the frozen copy of a RestAPI and its resource tree.
type DeployedAPI struct {
	Name                      string     `json:"name"`
	DisableExecuteAPIEndpoint bool       `json:"disableExecuteApiEndpoint"`
	BinaryMediaTypes          []string   `json:"binaryMediaTypes,omitempty"`
	Resources                 []Resource `json:"resources"`
}

// Stage points a name at a deployment.
type Stage struct {
	APIID           string            `json:"apiId"`
	Name            string            `json:"stageName"`
	DeploymentID    string            `json:"deploymentId"`
	Description     string            `json:"description,omitempty"`
	Variables       map[string]string `json:"variables,omitempty"`
	CreatedDate     time.Time         `json:"createdDate"`
	LastUpdatedDate time.Time         `json:"lastUpdatedDate"`
	TracingEnabled  bool              `json:"tracingEnabled,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
}
