package apigw

import (
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

type resourceOut struct {
	ID              string         `json:"id"`
	ParentID        string         `json:"parentId,omitempty"`
	PathPart        string         `json:"pathPart,omitempty"`
	Path            string         `json:"path"`
	ResourceMethods map[string]any `json:"resourceMethods,omitempty"`
}

// resourceView renders a resource. Without embed=methods AWS lists each
// method as an empty object; with it, the whole Method.
func resourceView(res model.Resource, embed bool) resourceOut {
	out := resourceOut{ID: res.ID, ParentID: res.ParentID, PathPart: res.PathPart, Path: res.Path}
	if len(res.Methods) > 0 {
		out.ResourceMethods = make(map[string]any, len(res.Methods))
		for name, m := range res.Methods {
			if embed {
				out.ResourceMethods[name] = methodView(m)
			} else {
				out.ResourceMethods[name] = struct{}{}
			}
		}
	}
	return out
}

func embedMethods(r *http.Request) bool {
	for _, v := range r.URL.Query()["embed"] {
		for _, e := range strings.Split(v, ",") {
			if strings.TrimSpace(e) == "methods" {
				return true
			}
		}
	}
	return false
}

// loadResource reads a resource of an existing API.
func (s *Service) loadResource(tx store.Tx, apiID, resID string) (model.Resource, error) {
	if _, err := s.loadAPI(tx, apiID); err != nil {
		return model.Resource{}, err
	}
	res, err := store.GetJSON[model.Resource](tx, model.ResourceKey(apiID, resID))
	if errors.Is(err, store.ErrNotFound) {
		return res, errResourceNotFound
	}
	return res, err
}

func (s *Service) getResource(w http.ResponseWriter, r *http.Request) error {
	var res model.Resource
	_, err := s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		res, err = s.loadResource(tx, r.PathValue("restapi_id"), r.PathValue("resource_id"))
		return err
	})
	if err != nil {
		return wrapInternal(err, "reading resource")
	}
	return writeJSON(w, r, http.StatusOK, resourceView(res, embedMethods(r)))
}

type resourcesOut struct {
	Items    []resourceOut `json:"item"`
	Position string        `json:"position,omitempty"`
}

func (s *Service) getResources(w http.ResponseWriter, r *http.Request) error {
	p, err := v1Page(r)
	if err != nil {
		return err
	}
	apiID := r.PathValue("restapi_id")
	var all []model.Resource
	_, err = s.store.View(r.Context(), func(tx store.Tx) error {
		if _, err := s.loadAPI(tx, apiID); err != nil {
			return err
		}
		var err error
		all, err = store.ListJSON[model.Resource](tx, model.ResourcesPrefix(apiID))
		return err
	})
	if err != nil {
		return wrapInternal(err, "listing resources")
	}
	// By path, so a tree reads top-down; the id breaks no ties (paths are unique).
	page, next := paginate(all, func(r model.Resource) string { return r.Path }, p)
	embed := embedMethods(r)
	out := resourcesOut{Items: make([]resourceOut, 0, len(page)), Position: next}
	for _, res := range page {
		out.Items = append(out.Items, resourceView(res, embed))
	}
	return writeJSON(w, r, http.StatusOK, out)
}

type createResourceInput struct {
	PathPart string `json:"pathPart"`
}

// checkChild checks that pathPart may be a child of parent among siblings
// (excluding the resource itself when it moves or is renamed).
func checkChild(parent model.Resource, pathPart, selfID string, siblings []model.Resource) error {
	if err := model.ValidatePathPart(pathPart); err != nil {
		return badRequest("%s", err.Error())
	}
	if model.IsGreedyPathPart(parent.PathPart) {
		return badRequest("Cannot create a child of a resource with a greedy path variable: %s", parent.PathPart)
	}
	for _, sib := range siblings {
		if sib.ID == selfID || sib.ParentID != parent.ID {
			continue
		}
		if sib.PathPart == pathPart {
			return conflict("Another resource with the same parent already has this name: %s", pathPart)
		}
		if model.IsParamPathPart(pathPart) && model.IsParamPathPart(sib.PathPart) {
			return badRequest("A sibling (%s) of this resource already has a variable path part -- only one is allowed", sib.PathPart)
		}
	}
	return nil
}

func (s *Service) createResource(w http.ResponseWriter, r *http.Request) error {
	var in createResourceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	apiID := r.PathValue("restapi_id")
	var res model.Resource
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		parent, err := s.loadResource(tx, apiID, r.PathValue("resource_id"))
		if err != nil {
			return err
		}
		all, err := store.ListJSON[model.Resource](tx, model.ResourcesPrefix(apiID))
		if err != nil {
			return err
		}
		if err := checkChild(parent, in.PathPart, "", all); err != nil {
			return err
		}
		id, err := freshID(tx, func(id string) string { return model.ResourceKey(apiID, id) })
		if err != nil {
			return err
		}
		res = model.Resource{ID: id, APIID: apiID, ParentID: parent.ID, PathPart: in.PathPart, Path: path.Join(parent.Path, in.PathPart)}
		return store.PutJSON(tx, model.ResourceKey(apiID, id), res)
	})
	if err != nil {
		return wrapInternal(err, "creating resource")
	}
	return writeJSON(w, r, http.StatusCreated, resourceView(res, false))
}

// descendants returns the ids of every resource below id.
func descendants(all []model.Resource, id string) []string {
	children := map[string][]string{}
	for _, res := range all {
		children[res.ParentID] = append(children[res.ParentID], res.ID)
	}
	var out []string
	queue := []string{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, c := range children[cur] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// deleteResource removes a resource and everything below it.
func (s *Service) deleteResource(w http.ResponseWriter, r *http.Request) error {
	apiID := r.PathValue("restapi_id")
	_, err := s.store.Update(r.Context(), func(tx store.Tx) error {
		res, err := s.loadResource(tx, apiID, r.PathValue("resource_id"))
		if err != nil {
			return err
		}
		if res.ParentID == "" {
			return badRequest("Cannot delete the root resource of a REST API")
		}
		all, err := store.ListJSON[model.Resource](tx, model.ResourcesPrefix(apiID))
		if err != nil {
			return err
		}
		for _, id := range append(descendants(all, res.ID), res.ID) {
			if err := tx.Delete(model.ResourceKey(apiID, id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrapInternal(err, "deleting resource")
	}
	return writeEmpty(w, r, http.StatusAccepted)
}

var resourcePatchPaths = []string{"/parentId", "/pathPart"}

// updateResource renames (/pathPart) or moves (/parentId) a resource; the
// paths of everything below it follow.
func (s *Service) updateResource(w http.ResponseWriter, r *http.Request) error {
	ops, err := decodePatch(r)
	if err != nil {
		return err
	}
	apiID := r.PathValue("restapi_id")
	var res model.Resource
	_, err = s.store.Update(r.Context(), func(tx store.Tx) error {
		var err error
		res, err = s.loadResource(tx, apiID, r.PathValue("resource_id"))
		if err != nil {
			return err
		}
		all, err := store.ListJSON[model.Resource](tx, model.ResourcesPrefix(apiID))
		if err != nil {
			return err
		}
		byID := make(map[string]model.Resource, len(all))
		for _, x := range all {
			byID[x.ID] = x
		}
		for _, op := range ops {
			if !slices.Contains(resourcePatchPaths, op.Path) {
				return errPatchPath(op, resourcePatchPaths)
			}
			if op.Op != "replace" {
				return errPatchOp(op)
			}
			if res.ParentID == "" {
				return badRequest("The root resource cannot be renamed or moved")
			}
			if op.Path == "/pathPart" {
				res.PathPart = op.value()
				continue
			}
			if _, ok := byID[op.value()]; !ok {
				return errResourceNotFound
			}
			if op.value() == res.ID || slices.Contains(descendants(all, res.ID), op.value()) {
				return badRequest("Resources cannot be cyclical.")
			}
			res.ParentID = op.value()
		}
		parent := byID[res.ParentID]
		if err := checkChild(parent, res.PathPart, res.ID, all); err != nil {
			return err
		}
		res.Path = path.Join(parent.Path, res.PathPart)
		byID[res.ID] = res
		// Recompute the paths below, parents before children.
		for _, id := range descendants(all, res.ID) {
			c := byID[id]
			c.Path = path.Join(byID[c.ParentID].Path, c.PathPart)
			byID[id] = c
			if err := store.PutJSON(tx, model.ResourceKey(apiID, id), c); err != nil {
				return err
			}
		}
		return store.PutJSON(tx, model.ResourceKey(apiID, res.ID), res)
	})
	if err != nil {
		return wrapInternal(err, "updating resource")
	}
	return writeJSON(w, r, http.StatusOK, resourceView(res, false))
}
