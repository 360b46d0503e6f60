package s3api

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"trustgate/internal/model"
)

// owner is the one account behind every bucket.
var owner = ownerXML{ID: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", DisplayName: "trustgate"}

type ownerXML struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

const timeFormat = "2006-01-02T15:04:05.000Z"

func xmlTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func (s *Service) createBucket(w http.ResponseWriter, r *http.Request, q *request) error {
	if len(bytes.TrimSpace(q.body)) > 0 {
		var cfg struct {
			XMLName            xml.Name `xml:"CreateBucketConfiguration"`
			LocationConstraint string   `xml:"LocationConstraint"`
		}
		if err := xml.Unmarshal(q.body, &cfg); err != nil {
			return malformedXML()
		}
		// Any location constraint is accepted: there is one location here.
	}
	if _, err := s.objs.CreateBucket(r.Context(), q.bucket); err != nil {
		return toAWS(err, q)
	}
	w.Header().Set("Location", "/"+q.bucket)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Service) headBucket(w http.ResponseWriter, r *http.Request, q *request) error {
	if _, err := s.objs.GetBucket(r.Context(), q.bucket); err != nil {
		return toAWS(err, q)
	}
	w.Header().Set("X-Amz-Bucket-Region", s.region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Service) deleteBucket(w http.ResponseWriter, r *http.Request, q *request) error {
	if err := s.objs.DeleteBucket(r.Context(), q.bucket); err != nil {
		return toAWS(err, q)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) listBuckets(w http.ResponseWriter, r *http.Request, q *request) error {
	bs, err := s.objs.ListBuckets(r.Context())
	if err != nil {
		return err
	}
	type bucketXML struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
		BucketRegion string `xml:"BucketRegion"`
	}
	out := struct {
		XMLName xml.Name    `xml:"ListAllMyBucketsResult"`
		Xmlns   string      `xml:"xmlns,attr"`
		Owner   ownerXML    `xml:"Owner"`
		Buckets []bucketXML `xml:"Buckets>Bucket"`
		Prefix  string      `xml:"Prefix,omitempty"`
	}{Xmlns: xmlns, Owner: owner, Prefix: q.get("prefix")}
	for _, b := range bs {
		if !strings.HasPrefix(b.Name, q.get("prefix")) {
			continue
		}
		out.Buckets = append(out.Buckets, bucketXML{Name: b.Name, CreationDate: xmlTime(b.CreatedDate), BucketRegion: s.region})
	}
	return writeXML(w, out)
}

func (s *Service) getBucketLocation(w http.ResponseWriter, r *http.Request, q *request) error {
	if _, err := s.objs.GetBucket(r.Context(), q.bucket); err != nil {
		return toAWS(err, q)
	}
	loc := s.region
	if loc == "us-east-1" {
		loc = "" // S3's legacy answer for us-east-1
	}
	return writeXML(w, struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Xmlns   string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{Xmlns: xmlns, Value: loc})
}

type versioningXML struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

func (s *Service) putBucketVersioning(w http.ResponseWriter, r *http.Request, q *request) error {
	var cfg versioningXML
	if err := xml.Unmarshal(q.body, &cfg); err != nil {
		return malformedXML()
	}
	if cfg.Status != model.VersioningEnabled && cfg.Status != model.VersioningSuspended {
		return malformedXML()
	}
	if err := s.objs.SetVersioning(r.Context(), q.bucket, cfg.Status); err != nil {
		return toAWS(err, q)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Service) getBucketVersioning(w http.ResponseWriter, r *http.Request, q *request) error {
	b, err := s.objs.GetBucket(r.Context(), q.bucket)
	if err != nil {
		return toAWS(err, q)
	}
	return writeXML(w, versioningXML{Xmlns: xmlns, Status: b.Versioning})
}
