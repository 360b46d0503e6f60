package apigw

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

const (
	maxTags           = 50
	maxTagKeyLength   = 128
	maxTagValueLength = 256
)

// validateTags checks tag keys and values against AWS's limits.
func validateTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return badRequest("Too many tags: at most %d tags are allowed on a resource", maxTags)
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n == 0 || n > maxTagKeyLength {
			return badRequest("Invalid tag key %q: a tag key has 1 to %d characters", k, maxTagKeyLength)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return badRequest("Invalid tag key %q: the aws: prefix is reserved", k)
		}
		if utf8.RuneCountInString(v) > maxTagValueLength {
			return badRequest("Invalid tag value for key %q: a tag value has at most %d characters", k, maxTagValueLength)
		}
	}
	return nil
}

// domainARN is the ARN API Gateway gives a domain name.
func (s *Service) domainARN(name string) string {
	return "arn:aws:apigateway:" + s.region + "::/domainnames/" + name
}

// tagTarget is the resource an ARN names: how to read and write its tags.
type tagTarget struct {
	get func(tx store.Tx) (map[string]string, error)
	set func(tx store.Tx, tags map[string]string) error
	// domain is true for a domain name, whose trustgate:* tags configure
	// the data plane and are checked.
	domain bool
}

// resolveARN maps arn:aws:apigateway:{region}::/domainnames/{name},
// …::/restapis/{id} and …::/restapis/{id}/stages/{name} to their records.
func (s *Service) resolveARN(arn string, v2 bool) (tagTarget, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "apigateway" || parts[4] != "" {
		return tagTarget{}, badRequest("Invalid ARN specified in the request: %s", arn)
	}
	if parts[3] != s.region {
		return tagTarget{}, notFound("Invalid resource identifier specified: %s is not in region %s", arn, s.region)
	}
	segs := strings.Split(strings.TrimPrefix(parts[5], "/"), "/")
	switch {
	case len(segs) == 2 && segs[0] == "domainnames":
		name := strings.ToLower(segs[1])
		load := func(tx store.Tx) (model.DomainName, error) {
			d, err := store.GetJSON[model.DomainName](tx, model.DomainKey(name))
			if errors.Is(err, store.ErrNotFound) {
				if v2 {
					return d, errDomainNotFoundV2
				}
				return d, errDomainNotFound
			}
			return d, err
		}
		return tagTarget{
			domain: true,
			get: func(tx store.Tx) (map[string]string, error) {
				d, err := load(tx)
				return d.Tags, err
			},
			set: func(tx store.Tx, tags map[string]string) error {
				d, err := load(tx)
				if err != nil {
					return err
				}
				d.Tags = tags
				return store.PutJSON(tx, model.DomainKey(name), d)
			},
		}, nil
	case len(segs) == 2 && segs[0] == "restapis":
		id := segs[1]
		return tagTarget{
			get: func(tx store.Tx) (map[string]string, error) {
				a, err := s.loadAPI(tx, id)
				return a.Tags, err
			},
			set: func(tx store.Tx, tags map[string]string) error {
				a, err := s.loadAPI(tx, id)
				if err != nil {
					return err
				}
				a.Tags = tags
				return store.PutJSON(tx, model.RestAPIKey(id), a)
			},
		}, nil
	case len(segs) == 4 && segs[0] == "restapis" && segs[2] == "stages":
		id, name := segs[1], segs[3]
		return tagTarget{
			get: func(tx store.Tx) (map[string]string, error) {
				st, err := s.loadStage(tx, id, name)
				return st.Tags, err
			},
			set: func(tx store.Tx, tags map[string]string) error {
				st, err := s.loadStage(tx, id, name)
				if err != nil {
					return err
				}
				st.Tags = tags
				return store.PutJSON(tx, model.StageKey(id, name), st)
			},
		}, nil
	}
	return tagTarget{}, badRequest("Invalid ARN specified in the request: %s does not name a domain name, REST API or stage", arn)
}

type tagsInput struct {
	Tags map[string]string `json:"tags"`
}

type tagsOut struct {
	Tags map[string]string `json:"tags"`
}

// tag merges tags into the resource's, in one transaction.
func (s *Service) tag(r *http.Request, arn string, v2 bool) error {
	var in tagsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.resolveARN(arn, v2)
	if err != nil {
		return err
	}
	_, err = s.store.Update(r.Context(), func(tx store.Tx) error {
		cur, err := t.get(tx)
		if err != nil {
			return err
		}
		merged := cloneMap(cur)
		if merged == nil {
			merged = map[string]string{}
		}
		for k, v := range in.Tags {
			merged[k] = v
		}
		if err := validateTags(merged); err != nil {
			return err
		}
		if t.domain {
			if err := s.checkDomainTags(merged); err != nil {
				return err
			}
		}
		return t.set(tx, merged)
	})
	return wrapInternal(err, "tagging resource")
}

// untag removes the tagKeys query values from the resource's tags.
func (s *Service) untag(r *http.Request, arn string, v2 bool) error {
	keys := r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		return badRequest("tagKeys must be specified")
	}
	t, err := s.resolveARN(arn, v2)
	if err != nil {
		return err
	}
	_, err = s.store.Update(r.Context(), func(tx store.Tx) error {
		cur, err := t.get(tx)
		if err != nil {
			return err
		}
		tags := cloneMap(cur)
		for _, k := range keys {
			delete(tags, k)
		}
		if len(tags) == 0 {
			tags = nil
		}
		return t.set(tx, tags)
	})
	return wrapInternal(err, "untagging resource")
}

func (s *Service) getTags(r *http.Request, arn string, v2 bool) (map[string]string, error) {
	t, err := s.resolveARN(arn, v2)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	_, err = s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		tags, err = t.get(tx)
		return err
	})
	if tags == nil {
		tags = map[string]string{}
	}
	return tags, wrapInternal(err, "reading tags")
}

func (s *Service) tagResourceV1(w http.ResponseWriter, r *http.Request) error {
	if err := s.tag(r, r.PathValue("resource_arn"), false); err != nil {
		return err
	}
	return writeEmpty(w, r, http.StatusNoContent)
}

func (s *Service) untagResourceV1(w http.ResponseWriter, r *http.Request) error {
	if err := s.untag(r, r.PathValue("resource_arn"), false); err != nil {
		return err
	}
	return writeEmpty(w, r, http.StatusNoContent)
}

func (s *Service) getTagsV1(w http.ResponseWriter, r *http.Request) error {
	tags, err := s.getTags(r, r.PathValue("resource_arn"), false)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, tagsOut{Tags: tags})
}

func (s *Service) tagResourceV2(w http.ResponseWriter, r *http.Request) error {
	if err := s.tag(r, r.PathValue("resource-arn"), true); err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusCreated, struct{}{})
}

func (s *Service) untagResourceV2(w http.ResponseWriter, r *http.Request) error {
	if err := s.untag(r, r.PathValue("resource-arn"), true); err != nil {
		return err
	}
	return writeEmpty(w, r, http.StatusNoContent)
}

func (s *Service) getTagsV2(w http.ResponseWriter, r *http.Request) error {
	tags, err := s.getTags(r, r.PathValue("resource-arn"), true)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, tagsOut{Tags: tags})
}
