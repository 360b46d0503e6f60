package apigw

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

type canarySettings struct {
	PercentTraffic         *float64          `json:"percentTraffic"`
	StageVariableOverrides map[string]string `json:"stageVariableOverrides"`
	UseStageCache          bool              `json:"useStageCache"`
}

type createDeploymentInput struct {
	StageName           string            `json:"stageName"`
	StageDescription    string            `json:"stageDescription"`
	Description         string            `json:"description"`
	CacheClusterEnabled bool              `json:"cacheClusterEnabled"`
	CacheClusterSize    string            `json:"cacheClusterSize"`
	Variables           map[string]string `json:"variables"`
	CanarySettings      *canarySettings   `json:"canarySettings"`
	TracingEnabled      *bool             `json:"tracingEnabled"`
}

type methodSnapshot struct {
	AuthorizationType string `json:"authorizationType,omitempty"`
	APIKeyRequired    bool   `json:"apiKeyRequired"`
}

type deploymentOut struct {
	ID          string                               `json:"id"`
	Description string                               `json:"description,omitempty"`
	CreatedDate *epochTime                           `json:"createdDate,omitempty"`
	APISummary  map[string]map[string]methodSnapshot `json:"apiSummary,omitempty"`
}

func deploymentView(d model.Deployment, summary bool) deploymentOut {
	out := deploymentOut{ID: d.ID, Description: d.Description, CreatedDate: epoch(d.CreatedDate)}
	if summary {
		out.APISummary = map[string]map[string]methodSnapshot{}
		for _, res := range d.API.Resources {
			if len(res.Methods) == 0 {
				continue
			}
			ms := map[string]methodSnapshot{}
			for name, m := range res.Methods {
				ms[name] = methodSnapshot{AuthorizationType: m.AuthorizationType, APIKeyRequired: m.APIKeyRequired}
			}
			out.APISummary[res.Path] = ms
		}
	}
	return out
}

// freeze deep-copies an API's resource tree into a deployment, so later
// edits of the API change nothing that is served until the next deployment.
// It refuses, like AWS, an API without methods or with a method that has no
// integration.
func freeze(api model.RestAPI, resources []model.Resource) (model.DeployedAPI, error) {
	// A JSON round trip is the simplest complete deep copy of the nested
	// maps and pointers, and matches exactly what the store would hold.
	b, err := json.Marshal(resources)
	if err != nil {
		return model.DeployedAPI{}, fmt.Errorf("copying resources: %w", err)
	}
	var copied []model.Resource
	if err := json.Unmarshal(b, &copied); err != nil {
		return model.DeployedAPI{}, fmt.Errorf("copying resources: %w", err)
	}
	sort.Slice(copied, func(i, j int) bool { return copied[i].Path < copied[j].Path })
	methods := 0
	for _, res := range copied {
		for _, name := range sortedKeys(res.Methods) {
			methods++
			if res.Methods[name].Integration == nil {
				return model.DeployedAPI{}, badRequest("No integration defined for method")
			}
		}
	}
	if methods == 0 {
		return model.DeployedAPI{}, badRequest("The REST API doesn't contain any methods")
	}
	return model.DeployedAPI{
		Name:                      api.Name,
		DisableExecuteAPIEndpoint: api.DisableExecuteAPIEndpoint,
		BinaryMediaTypes:          append([]string(nil), api.BinaryMediaTypes...),
		Resources:                 copied,
	}, nil
}

// createDeployment freezes the API and, with stageName, creates the stage or
// points the existing stage at the new deployment, in one transaction.
func (s *Service) createDeployment(w http.ResponseWriter, r *http.Request) error {
	var in createDeploymentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.StageName != "" {
		if err := model.ValidateStageName(in.StageName); err != nil {
			return badRequest("%s", err.Error())
		}
	}
	if err := validateVariables(in.Variables); err != nil {
		return err
	}
	apiID := r.PathValue("restapi_id")
	var dep model.Deployment
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		api, err := s.loadAPI(tx, apiID)
		if err != nil {
			return err
		}
		resources, err := store.ListJSON[model.Resource](tx, model.ResourcesPrefix(apiID))
		if err != nil {
			return err
		}
		frozen, err := freeze(api, resources)
		if err != nil {
			return err
		}
		id, err := freshID(tx, func(id string) string { return model.DeploymentKey(apiID, id) })
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(1e9)
		dep = model.Deployment{ID: id, APIID: apiID, Description: in.Description, CreatedDate: now, API: frozen}
		if err := store.PutJSON(tx, model.DeploymentKey(apiID, id), dep); err != nil {
			return err
		}
		if in.StageName == "" {
			return nil
		}
		st, err := store.GetJSON[model.Stage](tx, model.StageKey(apiID, in.StageName))
		switch {
		case errors.Is(err, store.ErrNotFound):
			st = model.Stage{APIID: apiID, Name: in.StageName, Description: in.StageDescription, CreatedDate: now}
		case err != nil:
			return err
		}
		st.DeploymentID = id
		st.LastUpdatedDate = now
		if in.Variables != nil {
			st.Variables = in.Variables
		}
		if in.TracingEnabled != nil {
			st.TracingEnabled = *in.TracingEnabled
		}
		return store.PutJSON(tx, model.StageKey(apiID, in.StageName), st)
	})
	if err != nil {
		return wrapInternal(err, "creating deployment")
	}
	return writeJSON(w, r, http.StatusCreated, deploymentView(dep, true))
}

func (s *Service) loadDeployment(tx store.Tx, apiID, id string) (model.Deployment, error) {
	if _, err := s.loadAPI(tx, apiID); err != nil {
		return model.Deployment{}, err
	}
	d, err := store.GetJSON[model.Deployment](tx, model.DeploymentKey(apiID, id))
	if errors.Is(err, store.ErrNotFound) {
		return d, errDeploymentNotFound
	}
	return d, err
}

func (s *Service) getDeployment(w http.ResponseWriter, r *http.Request) error {
	var d model.Deployment
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		d, err = s.loadDeployment(tx, r.PathValue("restapi_id"), r.PathValue("deployment_id"))
		return err
	})
	if err != nil {
		return wrapInternal(err, "reading deployment")
	}
	summary := false
	for _, e := range r.URL.Query()["embed"] {
		summary = summary || strings.Contains(strings.ToLower(e), "apisummary")
	}
	return writeJSON(w, r, http.StatusOK, deploymentView(d, summary))
}

type deploymentsOut struct {
	Items    []deploymentOut `json:"item"`
	Position string          `json:"position,omitempty"`
}

func (s *Service) getDeployments(w http.ResponseWriter, r *http.Request) error {
	p, err := v1Page(r)
	if err != nil {
		return err
	}
	apiID := r.PathValue("restapi_id")
	var all []model.Deployment
	_, err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := s.loadAPI(tx, apiID); err != nil {
			return err
		}
		var err error
		all, err = store.ListJSON[model.Deployment](tx, model.DeploymentsPrefix(apiID))
		return err
	})
	if err != nil {
		return wrapInternal(err, "listing deployments")
	}
	page, next := paginate(all, func(d model.Deployment) string { return d.ID }, p)
	out := deploymentsOut{Items: make([]deploymentOut, 0, len(page)), Position: next}
	for _, d := range page {
		out.Items = append(out.Items, deploymentView(d, false))
	}
	return writeJSON(w, r, http.StatusOK, out)
}
