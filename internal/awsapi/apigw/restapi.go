package apigw

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

// Endpoint types of REST APIs and domain names.
const (
	endpointRegional = "REGIONAL"
	endpointEdge     = "EDGE"
	endpointPrivate  = "PRIVATE"
)

var endpointTypes = []string{endpointRegional, endpointEdge, endpointPrivate}

const (
	maxAPINameLength          = 1024
	maxMinimumCompressionSize = 10485760
)

type endpointConfiguration struct {
	Types          []string `json:"types,omitempty"`
	IPAddressType  string   `json:"ipAddressType,omitempty"`
	VPCEndpointIDs []string `json:"vpcEndpointIds,omitempty"`
}

type createRestAPIInput struct {
	Name                      *string                `json:"name"`
	Description               *string                `json:"description"`
	Version                   string                 `json:"version"`
	CloneFrom                 string                 `json:"cloneFrom"`
	BinaryMediaTypes          []string               `json:"binaryMediaTypes"`
	MinimumCompressionSize    *int                   `json:"minimumCompressionSize"`
	APIKeySource              string                 `json:"apiKeySource"`
	EndpointConfiguration     *endpointConfiguration `json:"endpointConfiguration"`
	Policy                    string                 `json:"policy"`
	Tags                      map[string]string      `json:"tags"`
	DisableExecuteAPIEndpoint bool                   `json:"disableExecuteApiEndpoint"`
	SecurityPolicy            string                 `json:"securityPolicy"`
	EndpointAccessMode        string                 `json:"endpointAccessMode"`
}

type restAPIOut struct {
	ID                        string                 `json:"id"`
	Name                      string                 `json:"name"`
	Description               string                 `json:"description,omitempty"`
	CreatedDate               *epochTime             `json:"createdDate,omitempty"`
	Version                   string                 `json:"version,omitempty"`
	BinaryMediaTypes          []string               `json:"binaryMediaTypes,omitempty"`
	MinimumCompressionSize    *int                   `json:"minimumCompressionSize,omitempty"`
	APIKeySource              string                 `json:"apiKeySource,omitempty"`
	EndpointConfiguration     *endpointConfiguration `json:"endpointConfiguration,omitempty"`
	Policy                    string                 `json:"policy,omitempty"`
	Tags                      map[string]string      `json:"tags,omitempty"`
	DisableExecuteAPIEndpoint bool                   `json:"disableExecuteApiEndpoint"`
	RootResourceID            string                 `json:"rootResourceId,omitempty"`
}

func restAPIView(a model.RestAPI) restAPIOut {
	return restAPIOut{
		ID:                        a.ID,
		Name:                      a.Name,
		Description:               a.Description,
		CreatedDate:               epoch(a.CreatedDate),
		Version:                   a.Version,
		BinaryMediaTypes:          a.BinaryMediaTypes,
		MinimumCompressionSize:    a.MinimumCompressionSize,
		APIKeySource:              a.APIKeySource,
		EndpointConfiguration:     &endpointConfiguration{Types: a.EndpointTypes, IPAddressType: "ipv4"},
		Policy:                    a.Policy,
		Tags:                      a.Tags,
		DisableExecuteAPIEndpoint: a.DisableExecuteAPIEndpoint,
		RootResourceID:            a.RootResourceID,
	}
}

func validateAPIName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > maxAPINameLength {
		return badRequest("Invalid REST API name specified: the name must be between 1 and %d characters", maxAPINameLength)
	}
	return nil
}

func validateCompressionSize(n int) error {
	if n < 0 || n > maxMinimumCompressionSize {
		return badRequest("Invalid minimum compression size, must be between 0 and %d", maxMinimumCompressionSize)
	}
	return nil
}

func validateAPIKeySource(v string) error {
	if v != "HEADER" && v != "AUTHORIZER" {
		return validationError(v, "apiKeySource", []string{"HEADER", "AUTHORIZER"})
	}
	return nil
}

func (s *Service) createRestAPI(w http.ResponseWriter, r *http.Request) error {
	var in createRestAPIInput
	if err := decode(r, &in); err != nil {
		return err
	}
	name := ""
	if in.Name != nil {
		name = *in.Name
	}
	if err := validateAPIName(name); err != nil {
		return err
	}
	if in.Description != nil && *in.Description == "" {
		return badRequest("Description cannot be an empty string")
	}
	if in.CloneFrom != "" {
		return badRequest("cloneFrom is not supported: create the API and its resources instead")
	}
	if in.MinimumCompressionSize != nil {
		if err := validateCompressionSize(*in.MinimumCompressionSize); err != nil {
			return err
		}
	}
	keySource := "HEADER"
	if in.APIKeySource != "" {
		if err := validateAPIKeySource(in.APIKeySource); err != nil {
			return err
		}
		keySource = in.APIKeySource
	}
	types := []string{endpointEdge} // AWS's default
	if in.EndpointConfiguration != nil && len(in.EndpointConfiguration.Types) > 0 {
		if len(in.EndpointConfiguration.Types) != 1 {
			return badRequest("Exactly one endpoint type must be specified, got %d", len(in.EndpointConfiguration.Types))
		}
		t := in.EndpointConfiguration.Types[0]
		if !slices.Contains(endpointTypes, t) {
			return validationError(t, "createRestApiInput.endpointConfiguration.types", endpointTypes)
		}
		types = []string{t}
	}
	if err := validateTags(in.Tags); err != nil {
		return err
	}
	api := model.RestAPI{
		Name:                      name,
		Version:                   in.Version,
		CreatedDate:               s.now().UTC().Truncate(1e9),
		APIKeySource:              keySource,
		EndpointTypes:             types,
		BinaryMediaTypes:          in.BinaryMediaTypes,
		MinimumCompressionSize:    in.MinimumCompressionSize,
		DisableExecuteAPIEndpoint: in.DisableExecuteAPIEndpoint,
		Policy:                    in.Policy,
		Tags:                      in.Tags,
	}
	if in.Description != nil {
		api.Description = *in.Description
	}
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		id, err := freshID(tx, model.RestAPIKey)
		if err != nil {
			return err
		}
		rootID, err := model.NewID()
		if err != nil {
			return err
		}
		api.ID, api.RootResourceID = id, rootID
		root := model.Resource{ID: rootID, APIID: id, Path: "/"}
		if err := store.PutJSON(tx, model.ResourceKey(id, rootID), root); err != nil {
			return err
		}
		return store.PutJSON(tx, model.RestAPIKey(id), api)
	})
	if err != nil {
		return wrapInternal(err, "creating rest api")
	}
	return writeJSON(w, r, http.StatusCreated, restAPIView(api))
}

// freshID draws ids until one is not in use under keyOf (a collision of 36^10
// ids is unlikely, but checking costs one read).
func freshID(tx store.Tx, keyOf func(string) string) (string, error) {
	for range 5 {
		id, err := model.NewID()
		if err != nil {
			return "", err
		}
		if _, err := tx.Get(keyOf(id)); errors.Is(err, store.ErrNotFound) {
			return id, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", errors.New("could not find an unused id")
}

// loadAPI reads a REST API or answers AWS's NotFound.
func (s *Service) loadAPI(tx store.Tx, id string) (model.RestAPI, error) {
	a, err := store.GetJSON[model.RestAPI](tx, model.RestAPIKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return a, s.errAPINotFound(id)
	}
	return a, err
}

func (s *Service) getRestAPI(w http.ResponseWriter, r *http.Request) error {
	var api model.RestAPI
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		api, err = s.loadAPI(tx, r.PathValue("restapi_id"))
		return err
	})
	if err != nil {
		return wrapInternal(err, "reading rest api")
	}
	return writeJSON(w, r, http.StatusOK, restAPIView(api))
}

type restAPIsOut struct {
	Items    []restAPIOut `json:"item"`
	Position string       `json:"position,omitempty"`
}

func (s *Service) getRestAPIs(w http.ResponseWriter, r *http.Request) error {
	p, err := v1Page(r)
	if err != nil {
		return err
	}
	var apis []model.RestAPI
	_, err = s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		apis, err = store.ListJSON[model.RestAPI](tx, model.PrefixRestAPIs)
		return err
	})
	if err != nil {
		return wrapInternal(err, "listing rest apis")
	}
	page, next := paginate(apis, func(a model.RestAPI) string { return a.ID }, p)
	out := restAPIsOut{Items: make([]restAPIOut, 0, len(page)), Position: next}
	for _, a := range page {
		out.Items = append(out.Items, restAPIView(a))
	}
	return writeJSON(w, r, http.StatusOK, out)
}

var restAPIPatchPaths = []string{
	"/name", "/description", "/version", "/policy", "/apiKeySource", "/minimumCompressionSize",
	"/disableExecuteApiEndpoint", "/binaryMediaTypes/{mediaType}", "/endpointConfiguration/types/{type}",
}

// applyRestAPIPatch applies one patch operation to a.
func applyRestAPIPatch(a *model.RestAPI, op patchOp) error {
	replaceOnly := func() error {
		if op.Op != "replace" {
			return errPatchOp(op)
		}
		return nil
	}
	switch {
	case op.Path == "/name":
		if err := replaceOnly(); err != nil {
			return err
		}
		if err := validateAPIName(op.value()); err != nil {
			return err
		}
		a.Name = op.value()
	case op.Path == "/description":
		switch op.Op {
		case "add", "replace":
			a.Description = op.value()
		case "remove":
			a.Description = ""
		default:
			return errPatchOp(op)
		}
	case op.Path == "/version":
		if err := replaceOnly(); err != nil {
			return err
		}
		a.Version = op.value()
	case op.Path == "/policy":
		if err := replaceOnly(); err != nil {
			return err
		}
		a.Policy = op.value()
	case op.Path == "/apiKeySource":
		if err := replaceOnly(); err != nil {
			return err
		}
		if err := validateAPIKeySource(op.value()); err != nil {
			return err
		}
		a.APIKeySource = op.value()
	case op.Path == "/minimumCompressionSize":
		if err := replaceOnly(); err != nil {
			return err
		}
		if op.value() == "" {
			a.MinimumCompressionSize = nil
			return nil
		}
		n, err := strconv.Atoi(op.value())
		if err != nil {
			return badRequest("Invalid minimum compression size, must be between 0 and %d", maxMinimumCompressionSize)
		}
		if err := validateCompressionSize(n); err != nil {
			return err
		}
		a.MinimumCompressionSize = &n
	case op.Path == "/disableExecuteApiEndpoint":
		if err := replaceOnly(); err != nil {
			return err
		}
		b, err := parseBool(op)
		if err != nil {
			return err
		}
		a.DisableExecuteAPIEndpoint = b
	case strings.HasPrefix(op.Path, "/binaryMediaTypes/"):
		mt := unescapePointer(strings.TrimPrefix(op.Path, "/binaryMediaTypes/"))
		if mt == "" {
			return errPatchPath(op, restAPIPatchPaths)
		}
		a.BinaryMediaTypes = slices.DeleteFunc(a.BinaryMediaTypes, func(s string) bool { return s == mt })
		switch op.Op {
		case "add":
			a.BinaryMediaTypes = append(a.BinaryMediaTypes, mt)
		case "replace":
			a.BinaryMediaTypes = append(a.BinaryMediaTypes, unescapePointer(op.value()))
		case "remove":
		default:
			return errPatchOp(op)
		}
	case strings.HasPrefix(op.Path, "/endpointConfiguration/types/"):
		if err := replaceOnly(); err != nil {
			return err
		}
		t := op.value()
		if !slices.Contains(endpointTypes, t) {
			return validationError(t, "updateRestApiInput.endpointConfiguration.types", endpointTypes)
		}
		a.EndpointTypes = []string{t}
	default:
		return errPatchPath(op, restAPIPatchPaths)
	}
	return nil
}

func (s *Service) updateRestAPI(w http.ResponseWriter, r *http.Request) error {
	ops, err := decodePatch(r)
	if err != nil {
		return err
	}
	var api model.RestAPI
	_, err = s.store.Update(r.Context(), func(tx store.Tx) error {
		var err error
		api, err = s.loadAPI(tx, r.PathValue("restapi_id"))
		if err != nil {
			return err
		}
		for _, op := range ops {
			if err := applyRestAPIPatch(&api, op); err != nil {
				return err
			}
		}
		return store.PutJSON(tx, model.RestAPIKey(api.ID), api)
	})
	if err != nil {
		return wrapInternal(err, "updating rest api")
	}
	return writeJSON(w, r, http.StatusOK, restAPIView(api))
}

// deleteRestAPI removes an API with its resources, deployments and stages.
// Like AWS it refuses while a domain name maps to the API, so no mapping is
// left pointing at nothing.
func (s *Service) deleteRestAPI(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("restapi_id")
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		if _, err := s.loadAPI(tx, id); err != nil {
			return err
		}
		maps, err := store.ListJSON[model.APIMapping](tx, model.PrefixMappings)
		if err != nil {
			return err
		}
		for _, m := range maps {
			if m.APIID == id {
				return badRequest("Deleting RestApi %s failed. Please remove all base path mappings related to the RestApi in your domains.", id)
			}
		}
		for _, prefix := range []string{model.ResourcesPrefix(id), model.DeploymentsPrefix(id), model.StagesPrefix(id)} {
			if err := deletePrefix(tx, prefix); err != nil {
				return err
			}
		}
		return tx.Delete(model.RestAPIKey(id))
	})
	if err != nil {
		return wrapInternal(err, "deleting rest api")
	}
	return writeEmpty(w, r, http.StatusAccepted)
}

func deletePrefix(tx store.Tx, prefix string) error {
	kvs, err := tx.List(prefix)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if err := tx.Delete(kv.Key); err != nil {
			return err
		}
	}
	return nil
}
