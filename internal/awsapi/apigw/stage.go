package apigw

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

type createStageInput struct {
	StageName            string            `json:"stageName"`
	DeploymentID         string            `json:"deploymentId"`
	Description          string            `json:"description"`
	CacheClusterEnabled  bool              `json:"cacheClusterEnabled"`
	CacheClusterSize     string            `json:"cacheClusterSize"`
	Variables            map[string]string `json:"variables"`
	DocumentationVersion string            `json:"documentationVersion"`
	CanarySettings       *canarySettings   `json:"canarySettings"`
	TracingEnabled       bool              `json:"tracingEnabled"`
	Tags                 map[string]string `json:"tags"`
}

type stageOut struct {
	DeploymentID        string            `json:"deploymentId"`
	StageName           string            `json:"stageName"`
	Description         string            `json:"description,omitempty"`
	CacheClusterEnabled bool              `json:"cacheClusterEnabled"`
	CacheClusterStatus  string            `json:"cacheClusterStatus"`
	MethodSettings      map[string]any    `json:"methodSettings"`
	Variables           map[string]string `json:"variables,omitempty"`
	TracingEnabled      bool              `json:"tracingEnabled"`
	Tags                map[string]string `json:"tags,omitempty"`
	CreatedDate         *epochTime        `json:"createdDate,omitempty"`
	LastUpdatedDate     *epochTime        `json:"lastUpdatedDate,omitempty"`
}

func stageView(st model.Stage) stageOut {
	return stageOut{
		DeploymentID: st.DeploymentID, StageName: st.Name, Description: st.Description,
		CacheClusterStatus: "NOT_AVAILABLE", MethodSettings: map[string]any{}, Variables: st.Variables,
		TracingEnabled: st.TracingEnabled, Tags: st.Tags,
		CreatedDate: epoch(st.CreatedDate), LastUpdatedDate: epoch(st.LastUpdatedDate),
	}
}

var (
	stageVarNameRE  = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	stageVarValueRE = regexp.MustCompile(`^[A-Za-z0-9\-._~:/?#&=,]{0,512}$`)
)

// validateVariables checks stage variables: names of letters, digits and
// underscores; values of letters, digits and -._~:/?#&=, (AWS's rules).
func validateVariables(vars map[string]string) error {
	for k, v := range vars {
		if !stageVarNameRE.MatchString(k) {
			return badRequest("Stage variable name %q is invalid: only a-zA-Z0-9_ allowed, at most 64 characters", k)
		}
		if !stageVarValueRE.MatchString(v) {
			return badRequest("Stage variable value for %q is invalid: only a-zA-Z0-9-._~:/?#&=, allowed, at most 512 characters", k)
		}
	}
	return nil
}

func (s *Service) createStage(w http.ResponseWriter, r *http.Request) error {
	var in createStageInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := model.ValidateStageName(in.StageName); err != nil {
		return badRequest("%s", err.Error())
	}
	if in.DeploymentID == "" {
		return badRequest("Deployment id must be specified")
	}
	if err := validateVariables(in.Variables); err != nil {
		return err
	}
	if err := validateTags(in.Tags); err != nil {
		return err
	}
	apiID := r.PathValue("restapi_id")
	var st model.Stage
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		if _, err := s.loadDeployment(tx, apiID, in.DeploymentID); err != nil {
			return err
		}
		if _, err := tx.Get(model.StageKey(apiID, in.StageName)); err == nil {
			return conflict("Stage already exists")
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := s.now().UTC().Truncate(1e9)
		st = model.Stage{
			APIID: apiID, Name: in.StageName, DeploymentID: in.DeploymentID, Description: in.Description,
			Variables: in.Variables, CreatedDate: now, LastUpdatedDate: now, TracingEnabled: in.TracingEnabled, Tags: in.Tags,
		}
		return store.PutJSON(tx, model.StageKey(apiID, in.StageName), st)
	})
	if err != nil {
		return wrapInternal(err, "creating stage")
	}
	return writeJSON(w, r, http.StatusCreated, stageView(st))
}

func (s *Service) loadStage(tx store.Tx, apiID, name string) (model.Stage, error) {
	if _, err := s.loadAPI(tx, apiID); err != nil {
		return model.Stage{}, err
	}
	st, err := store.GetJSON[model.Stage](tx, model.StageKey(apiID, name))
	if errors.Is(err, store.ErrNotFound) {
		return st, errStageNotFound
	}
	return st, err
}

func (s *Service) getStage(w http.ResponseWriter, r *http.Request) error {
	var st model.Stage
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		st, err = s.loadStage(tx, r.PathValue("restapi_id"), r.PathValue("stage_name"))
		return err
	})
	if err != nil {
		return wrapInternal(err, "reading stage")
	}
	return writeJSON(w, r, http.StatusOK, stageView(st))
}

type stagesOut struct {
	Items []stageOut `json:"item"`
}

func (s *Service) getStages(w http.ResponseWriter, r *http.Request) error {
	apiID := r.PathValue("restapi_id")
	dep := r.URL.Query().Get("deploymentId")
	var all []model.Stage
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := s.loadAPI(tx, apiID); err != nil {
			return err
		}
		var err error
		all, err = store.ListJSON[model.Stage](tx, model.StagesPrefix(apiID))
		return err
	})
	if err != nil {
		return wrapInternal(err, "listing stages")
	}
	out := stagesOut{Items: []stageOut{}}
	for _, st := range all {
		if dep == "" || st.DeploymentID == dep {
			out.Items = append(out.Items, stageView(st))
		}
	}
	return writeJSON(w, r, http.StatusOK, out)
}

var stagePatchPaths = []string{"/deploymentId", "/description", "/variables/{variable_name}", "/tracingEnabled"}

func (s *Service) applyStagePatch(tx store.Tx, st *model.Stage, op patchOp) error {
	switch {
	case op.Path == "/deploymentId":
		if op.Op != "replace" {
			return errPatchOp(op)
		}
		if _, err := s.loadDeployment(tx, st.APIID, op.value()); err != nil {
			return err
		}
		st.DeploymentID = op.value()
	case op.Path == "/description":
		switch op.Op {
		case "replace", "add":
			st.Description = op.value()
		case "remove":
			st.Description = ""
		default:
			return errPatchOp(op)
		}
	case op.Path == "/tracingEnabled":
		if op.Op != "replace" {
			return errPatchOp(op)
		}
		b, err := parseBool(op)
		if err != nil {
			return err
		}
		st.TracingEnabled = b
	case strings.HasPrefix(op.Path, "/variables/"):
		name := unescapePointer(strings.TrimPrefix(op.Path, "/variables/"))
		switch op.Op {
		case "add", "replace":
			v := map[string]string{name: op.value()}
			if err := validateVariables(v); err != nil {
				return err
			}
			if st.Variables == nil {
				st.Variables = map[string]string{}
			}
			st.Variables[name] = op.value()
		case "remove":
			delete(st.Variables, name)
			if len(st.Variables) == 0 {
				st.Variables = nil
			}
		default:
			return errPatchOp(op)
		}
	default:
		return badRequest("Invalid method setting path: %s. Must be one of: [%s]", op.Path, strings.Join(stagePatchPaths, ", "))
	}
	return nil
}

func (s *Service) updateStage(w http.ResponseWriter, r *http.Request) error {
	ops, err := decodePatch(r)
	if err != nil {
		return err
	}
	var st model.Stage
	_, err = s.store.Update(r.Context(), func(tx store.Tx) error {
		var err error
		st, err = s.loadStage(tx, r.PathValue("restapi_id"), r.PathValue("stage_name"))
		if err != nil {
			return err
		}
		for _, op := range ops {
			if err := s.applyStagePatch(tx, &st, op); err != nil {
				return err
			}
		}
		st.LastUpdatedDate = s.now().UTC().Truncate(1e9)
		return store.PutJSON(tx, model.StageKey(st.APIID, st.Name), st)
	})
	if err != nil {
		return wrapInternal(err, "updating stage")
	}
	return writeJSON(w, r, http.StatusOK, stageView(st))
}

// deleteStage removes a stage. It refuses while an API mapping routes to the
// stage, so no mapping is left pointing at nothing (trustgate's choice).
func (s *Service) deleteStage(w http.ResponseWriter, r *http.Request) error {
	apiID, name := r.PathValue("restapi_id"), r.PathValue("stage_name")
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		if _, err := s.loadStage(tx, apiID, name); err != nil {
			return err
		}
		maps, err := store.ListJSON[model.APIMapping](tx, model.PrefixMappings)
		if err != nil {
			return err
		}
		for _, m := range maps {
			if m.APIID == apiID && m.Stage == name {
				return badRequest("Deleting stage %s failed. Please remove all base path mappings related to the stage in your domains.", name)
			}
		}
		return tx.Delete(model.StageKey(apiID, name))
	})
	if err != nil {
		return wrapInternal(err, "deleting stage")
	}
	return writeEmpty(w, r, http.StatusAccepted)
}
