package apigw

import (
	"errors"
	"net/http"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

// v1 base path mappings and v2 API mappings are two views of one set of
// model.APIMapping records per domain: v1 shows the empty key as "(none)"
// and has no ids; v2 shows ids and the key as is. Keys with "/" (multi-level)
// can only be made through v2, as on AWS, but v1 lists and reads them.

// normKey maps the v1 spelling of the empty base path to the stored key.
func normKey(k string) string {
	if k == model.NoneKey {
		return ""
	}
	return k
}

func listMappings(tx store.Tx, domain string) ([]model.APIMapping, error) {
	return store.ListJSON[model.APIMapping](tx, model.MappingsPrefix(domain))
}

// checkKeyFree enforces one mapping per key, and one (none), on a domain;
// selfID is the mapping being updated.
func checkKeyFree(maps []model.APIMapping, key, selfID string) error {
	for _, m := range maps {
		if m.ID == selfID || m.Key != key {
			continue
		}
		if key == "" {
			return errNoneBasePathExists
		}
		return errBasePathExists
	}
	return nil
}

// checkMultiLevel enforces AWS's rule that multi-level keys need a regional
// domain whose policy is TLS 1.2 or better.
func checkMultiLevel(d model.DomainName, key string) error {
	if strings.Contains(key, "/") && d.SecurityPolicy == model.PolicyTLS10 {
		return badRequest("Multi-level API mappings need a REGIONAL domain name with security policy TLS_1_2 or a TLS 1.3 policy; %s uses TLS_1_0", d.Name)
	}
	return nil
}

// checkTargetV1 checks the API and (optional) stage of a v1 mapping, with
// the BadRequest answers AWS gives there.
func (s *Service) checkTargetV1(tx store.Tx, apiID, stage string) error {
	if apiID == "" {
		return badRequest("Invalid REST API identifier specified")
	}
	if _, err := tx.Get(model.RestAPIKey(apiID)); errors.Is(err, store.ErrNotFound) {
		return badRequest("Invalid REST API identifier specified")
	} else if err != nil {
		return err
	}
	if stage == "" {
		return nil
	}
	if _, err := tx.Get(model.StageKey(apiID, stage)); errors.Is(err, store.ErrNotFound) {
		return badRequest("Invalid stage identifier specified")
	} else if err != nil {
		return err
	}
	return nil
}

// checkTargetV2 checks the API and stage of a v2 mapping (both required).
func (s *Service) checkTargetV2(tx store.Tx, apiID, stage string) error {
	if apiID == "" {
		return badRequest("ApiId must be specified")
	}
	if stage == "" {
		return badRequest("Stage must be specified")
	}
	if _, err := tx.Get(model.RestAPIKey(apiID)); errors.Is(err, store.ErrNotFound) {
		return notFoundV2("Api", "Invalid API identifier specified %s:%s", s.account, apiID)
	} else if err != nil {
		return err
	}
	if _, err := tx.Get(model.StageKey(apiID, stage)); errors.Is(err, store.ErrNotFound) {
		return notFoundV2("Stage", "Invalid stage identifier specified")
	} else if err != nil {
		return err
	}
	return nil
}

type basePathMappingOut struct {
	BasePath  string `json:"basePath"`
	RestAPIID string `json:"restApiId"`
	Stage     string `json:"stage,omitempty"`
}

func basePathView(m model.APIMapping) basePathMappingOut {
	bp := m.Key
	if bp == "" {
		bp = model.NoneKey
	}
	return basePathMappingOut{BasePath: bp, RestAPIID: m.APIID, Stage: m.Stage}
}

type createBasePathMappingInput struct {
	BasePath  *string `json:"basePath"`
	RestAPIID string  `json:"restApiId"`
	Stage     string  `json:"stage"`
}

func (s *Service) createBasePathMapping(w http.ResponseWriter, r *http.Request) error {
	var in createBasePathMappingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	key := ""
	if in.BasePath != nil {
		key = normKey(*in.BasePath)
	}
	if key != "" {
		if err := model.ValidateBasePath(key, false); err != nil {
			return badRequest("%s", err.Error())
		}
	}
	stage := normKey(in.Stage) // v1 "(none)": callers put the stage in the URL
	var m model.APIMapping
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		d, err := loadDomain(tx, r.PathValue("domain_name"), false)
		if err != nil {
			return err
		}
		if err := s.checkTargetV1(tx, in.RestAPIID, stage); err != nil {
			return err
		}
		maps, err := listMappings(tx, d.Name)
		if err != nil {
			return err
		}
		if err := checkKeyFree(maps, key, ""); err != nil {
			return err
		}
		id, err := freshID(tx, func(id string) string { return model.MappingKey(d.Name, id) })
		if err != nil {
			return err
		}
		m = model.APIMapping{ID: id, DomainName: d.Name, Key: key, APIID: in.RestAPIID, Stage: stage}
		return store.PutJSON(tx, model.MappingKey(d.Name, id), m)
	})
	if err != nil {
		return wrapInternal(err, "creating base path mapping")
	}
	return writeJSON(w, r, http.StatusCreated, basePathView(m))
}

type basePathMappingsOut struct {
	Items    []basePathMappingOut `json:"item"`
	Position string               `json:"position,omitempty"`
}

func (s *Service) domainMappings(r *http.Request, domain string, v2 bool) ([]model.APIMapping, error) {
	var maps []model.APIMapping
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		d, err := loadDomain(tx, domain, v2)
		if err != nil {
			return err
		}
		maps, err = listMappings(tx, d.Name)
		return err
	})
	return maps, wrapInternal(err, "listing api mappings")
}

func (s *Service) getBasePathMappings(w http.ResponseWriter, r *http.Request) error {
	p, err := v1Page(r)
	if err != nil {
		return err
	}
	maps, err := s.domainMappings(r, r.PathValue("domain_name"), false)
	if err != nil {
		return err
	}
	page, next := paginate(maps, func(m model.APIMapping) string { return m.Key }, p)
	out := basePathMappingsOut{Items: make([]basePathMappingOut, 0, len(page)), Position: next}
	for _, m := range page {
		out.Items = append(out.Items, basePathView(m))
	}
	return writeJSON(w, r, http.StatusOK, out)
}

// findByKey returns the mapping of a domain with the given key.
func findByKey(maps []model.APIMapping, key string) (model.APIMapping, bool) {
	for _, m := range maps {
		if m.Key == key {
			return m, true
		}
	}
	return model.APIMapping{}, false
}

func (s *Service) getBasePathMapping(w http.ResponseWriter, r *http.Request) error {
	maps, err := s.domainMappings(r, r.PathValue("domain_name"), false)
	if err != nil {
		return err
	}
	m, ok := findByKey(maps, normKey(r.PathValue("base_path")))
	if !ok {
		return errBasePathNotFound
	}
	return writeJSON(w, r, http.StatusOK, basePathView(m))
}

var basePathPatchPaths = []string{"/basePath", "/restapiId", "/stage"}

func (s *Service) updateBasePathMapping(w http.ResponseWriter, r *http.Request) error {
	ops, err := decodePatch(r)
	if err != nil {
		return err
	}
	var m model.APIMapping
	_, err = s.store.Update(r.Context(), func(tx store.Tx) error {
		d, err := loadDomain(tx, r.PathValue("domain_name"), false)
		if err != nil {
			return err
		}
		maps, err := listMappings(tx, d.Name)
		if err != nil {
			return err
		}
		var ok bool
		if m, ok = findByKey(maps, normKey(r.PathValue("base_path"))); !ok {
			return errBasePathNotFound
		}
		oldKey := m.Key
		for _, op := range ops {
			path := op.Path
			if path == "/restApiId" {
				path = "/restapiId"
			}
			switch path {
			case "/basePath", "/restapiId", "/stage":
			default:
				return errPatchPath(op, basePathPatchPaths)
			}
			if op.Op != "replace" {
				return errPatchOp(op)
			}
			switch path {
			case "/basePath":
				m.Key = normKey(op.value())
			case "/restapiId":
				m.APIID = op.value()
			case "/stage":
				m.Stage = normKey(op.value())
			}
		}
		if m.Key != oldKey && m.Key != "" {
			if err := model.ValidateBasePath(m.Key, false); err != nil {
				return badRequest("%s", err.Error())
			}
		}
		if err := s.checkTargetV1(tx, m.APIID, m.Stage); err != nil {
			return err
		}
		if err := checkKeyFree(maps, m.Key, m.ID); err != nil {
			return err
		}
		return store.PutJSON(tx, model.MappingKey(d.Name, m.ID), m)
	})
	if err != nil {
		return wrapInternal(err, "updating base path mapping")
	}
	return writeJSON(w, r, http.StatusOK, basePathView(m))
}

func (s *Service) deleteBasePathMapping(w http.ResponseWriter, r *http.Request) error {
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		d, err := loadDomain(tx, r.PathValue("domain_name"), false)
		if err != nil {
			return err
		}
		maps, err := listMappings(tx, d.Name)
		if err != nil {
			return err
		}
		m, ok := findByKey(maps, normKey(r.PathValue("base_path")))
		if !ok {
			return errBasePathNotFound
		}
		return tx.Delete(model.MappingKey(d.Name, m.ID))
	})
	if err != nil {
		return wrapInternal(err, "deleting base path mapping")
	}
	return writeEmpty(w, r, http.StatusAccepted)
}

type apiMappingInput struct {
	APIID         string  `json:"apiId"`
	APIMappingKey *string `json:"apiMappingKey"`
	Stage         string  `json:"stage"`
}

type apiMappingOut struct {
	APIID         string `json:"apiId"`
	APIMappingID  string `json:"apiMappingId"`
	APIMappingKey string `json:"apiMappingKey"`
	Stage         string `json:"stage"`
}

func apiMappingView(m model.APIMapping) apiMappingOut {
	return apiMappingOut{APIID: m.APIID, APIMappingID: m.ID, APIMappingKey: m.Key, Stage: m.Stage}
}

// v2Key reads and validates a v2 mapping key ("" and "(none)" are the empty
// key; "/" allowed).
func v2Key(k *string) (string, error) {
	if k == nil {
		return "", nil
	}
	key := normKey(*k)
	if key == "" {
		return "", nil
	}
	if err := model.ValidateBasePath(key, true); err != nil {
		return "", badRequest("%s", err.Error())
	}
	return key, nil
}

func (s *Service) createAPIMapping(w http.ResponseWriter, r *http.Request) error {
	var in apiMappingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	key, err := v2Key(in.APIMappingKey)
	if err != nil {
		return err
	}
	var m model.APIMapping
	_, err = s.store.Update(r.Context(), func(tx store.Tx) error {
		d, err := loadDomain(tx, r.PathValue("domainName"), true)
		if err != nil {
			return err
		}
		if err := s.checkTargetV2(tx, in.APIID, in.Stage); err != nil {
			return err
		}
		if err := checkMultiLevel(d, key); err != nil {
			return err
		}
		maps, err := listMappings(tx, d.Name)
		if err != nil {
			return err
		}
		if err := checkKeyFree(maps, key, ""); err != nil {
			return err
		}
		id, err := freshID(tx, func(id string) string { return model.MappingKey(d.Name, id) })
		if err != nil {
			return err
		}
		m = model.APIMapping{ID: id, DomainName: d.Name, Key: key, APIID: in.APIID, Stage: in.Stage}
		return store.PutJSON(tx, model.MappingKey(d.Name, id), m)
	})
	if err != nil {
		return wrapInternal(err, "creating api mapping")
	}
	return writeJSON(w, r, http.StatusCreated, apiMappingView(m))
}

func loadMapping(tx store.Tx, domain, id string) (model.DomainName, model.APIMapping, error) {
	d, err := loadDomain(tx, domain, true)
	if err != nil {
		return d, model.APIMapping{}, err
	}
	m, err := store.GetJSON[model.APIMapping](tx, model.MappingKey(d.Name, id))
	if errors.Is(err, store.ErrNotFound) {
		return d, m, errAPIMappingNotFoundV2
	}
	return d, m, err
}

func (s *Service) getAPIMapping(w http.ResponseWriter, r *http.Request) error {
	var m model.APIMapping
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		_, m, err = loadMapping(tx, r.PathValue("domainName"), r.PathValue("apiMappingId"))
		return err
	})
	if err != nil {
		return wrapInternal(err, "reading api mapping")
	}
	return writeJSON(w, r, http.StatusOK, apiMappingView(m))
}

type apiMappingsOut struct {
	Items     []apiMappingOut `json:"items"`
	NextToken string          `json:"nextToken,omitempty"`
}

func (s *Service) getAPIMappings(w http.ResponseWriter, r *http.Request) error {
	p, err := v2Page(r)
	if err != nil {
		return err
	}
	maps, err := s.domainMappings(r, r.PathValue("domainName"), true)
	if err != nil {
		return err
	}
	page, next := paginate(maps, func(m model.APIMapping) string { return m.Key }, p)
	out := apiMappingsOut{Items: make([]apiMappingOut, 0, len(page)), NextToken: next}
	for _, m := range page {
		out.Items = append(out.Items, apiMappingView(m))
	}
	return writeJSON(w, r, http.StatusOK, out)
}

// updateAPIMapping changes a mapping's API, key or stage; omitted members
// keep their values.
func (s *Service) updateAPIMapping(w http.ResponseWriter, r *http.Request) error {
	var in apiMappingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var m model.APIMapping
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		d, cur, err := loadMapping(tx, r.PathValue("domainName"), r.PathValue("apiMappingId"))
		if err != nil {
			return err
		}
		m = cur
		if in.APIID != "" {
			m.APIID = in.APIID
		}
		if in.Stage != "" {
			m.Stage = in.Stage
		}
		if in.APIMappingKey != nil {
			if m.Key, err = v2Key(in.APIMappingKey); err != nil {
				return err
			}
		}
		if err := s.checkTargetV2(tx, m.APIID, m.Stage); err != nil {
			return err
		}
		if err := checkMultiLevel(d, m.Key); err != nil {
			return err
		}
		maps, err := listMappings(tx, d.Name)
		if err != nil {
			return err
		}
		if err := checkKeyFree(maps, m.Key, m.ID); err != nil {
			return err
		}
		return store.PutJSON(tx, model.MappingKey(d.Name, m.ID), m)
	})
	if err != nil {
		return wrapInternal(err, "updating api mapping")
	}
	return writeJSON(w, r, http.StatusOK, apiMappingView(m))
}

func (s *Service) deleteAPIMapping(w http.ResponseWriter, r *http.Request) error {
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		d, m, err := loadMapping(tx, r.PathValue("domainName"), r.PathValue("apiMappingId"))
		if err != nil {
			return err
		}
		return tx.Delete(model.MappingKey(d.Name, m.ID))
	})
	if err != nil {
		return wrapInternal(err, "deleting api mapping")
	}
	return writeEmpty(w, r, http.StatusNoContent)
}
