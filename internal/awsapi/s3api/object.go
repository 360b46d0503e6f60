package s3api

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/objects"
)

// checksumHeaders maps S3's checksum algorithms to their headers.
var checksumHeaders = map[string]string{
	"CRC32":     "X-Amz-Checksum-Crc32",
	"CRC32C":    "X-Amz-Checksum-Crc32c",
	"CRC64NVME": "X-Amz-Checksum-Crc64nvme",
	"SHA1":      "X-Amz-Checksum-Sha1",
	"SHA256":    "X-Amz-Checksum-Sha256",
}

// storedHeaders are the representation headers an upload keeps.
var storedHeaders = []string{"Content-Encoding", "Cache-Control", "Content-Disposition", "Content-Language", "Expires"}

const defaultContentType = "binary/octet-stream"

func (s *Service) putObject(w http.ResponseWriter, r *http.Request, q *request) error {
	in := objects.PutInput{Bucket: q.bucket, Key: q.key, Data: q.body, ContentType: r.Header.Get("Content-Type")}
	if in.ContentType == "" {
		in.ContentType = defaultContentType
	}
	for k, v := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-meta-") && len(v) > 0 {
			if in.Metadata == nil {
				in.Metadata = map[string]string{}
			}
			in.Metadata[strings.TrimPrefix(lk, "x-amz-meta-")] = v[0]
		}
	}
	for _, h := range storedHeaders {
		if v := r.Header.Get(h); v != "" {
			if in.Headers == nil {
				in.Headers = map[string]string{}
			}
			in.Headers[h] = v
		}
	}
	// The endpoint verified every checksum value sent (header or trailer);
	// keep them, and compute the one an SDK announced but did not send.
	in.Checksums = map[string]string{}
	for alg, h := range checksumHeaders {
		if v := r.Header.Get(h); v != "" {
			in.Checksums[alg] = v
		}
	}
	if alg := strings.ToUpper(r.Header.Get("X-Amz-Sdk-Checksum-Algorithm")); alg != "" && in.Checksums[alg] == "" {
		if h, ok := checksumHeaders[alg]; ok {
			in.Checksums[alg], _ = awsapi.Checksum(h, q.body)
		}
	}
	v, err := s.objs.PutObject(r.Context(), in)
	if err != nil {
		return toAWS(err, q)
	}
	h := w.Header()
	h.Set("ETag", v.ETag)
	if v.VersionID != "" {
		h.Set("X-Amz-Version-Id", v.VersionID)
	}
	for alg, val := range v.Checksums {
		h.Set(checksumHeaders[alg], val)
		h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func versionParam(q *request) (string, error) {
	if q.has("versionId") && q.get("versionId") == "" {
		return "", awserr.New(awserr.S3InvalidArgument, "Version id cannot be the empty string").
			With("ArgumentName", "versionId").With("ArgumentValue", "")
	}
	return q.get("versionId"), nil
}

// getObject serves GET and HEAD of an object.
func (s *Service) getObject(w http.ResponseWriter, r *http.Request, q *request) error {
	versionID, err := versionParam(q)
	if err != nil {
		return err
	}
	v, data, err := s.objs.Get(r.Context(), q.bucket, q.key, versionID, r.Method == http.MethodGet)
	if err != nil {
		if v.DeleteMarker {
			w.Header().Set("X-Amz-Delete-Marker", "true")
			if v.VersionID != "" {
				w.Header().Set("X-Amz-Version-Id", v.VersionID)
			}
		}
		if errors.Is(err, objects.ErrDeleteMarker) {
			w.Header().Set("Allow", "DELETE")
			w.Header().Set("Last-Modified", v.LastModified.UTC().Format(http.TimeFormat))
			return methodNotAllowed(r.Method, "DeleteMarker")
		}
		return toAWS(err, q)
	}
	h := w.Header()
	h.Set("ETag", v.ETag)
	h.Set("Last-Modified", v.LastModified.UTC().Format(http.TimeFormat))
	if v.VersionID != "" {
		h.Set("X-Amz-Version-Id", v.VersionID)
	}
	if status, err := preconditions(r, v); err != nil {
		return err
	} else if status == http.StatusNotModified {
		w.WriteHeader(status)
		return nil
	}
	ct := v.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	h.Set("Content-Type", ct)
	h.Set("Accept-Ranges", "bytes")
	for k, val := range v.Headers {
		h.Set(k, val)
	}
	for k, val := range v.Metadata {
		h.Set("X-Amz-Meta-"+k, val)
	}
	for _, o := range []struct{ param, header string }{
		{"response-content-type", "Content-Type"}, {"response-content-language", "Content-Language"},
		{"response-expires", "Expires"}, {"response-cache-control", "Cache-Control"},
		{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"},
	} {
		if val := q.get(o.param); val != "" {
			h.Set(o.header, val)
		}
	}

	start, end, partial, err := byteRange(r.Header.Get("Range"), v.Size)
	if err != nil {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", v.Size))
		return err
	}
	if !partial && strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		for alg, val := range v.Checksums {
			h.Set(checksumHeaders[alg], val)
			h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
		}
	}
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, v.Size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		w.Write(data[start:end])
	}
	return nil
}

func (s *Service) headObject(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.getObject(w, r, q)
}

// byteRange parses a single "bytes=" range against size: [start, end) and
// whether it is partial. Syntax S3 ignores (several ranges, other units)
// serves the whole object; an unsatisfiable range is InvalidRange.
func byteRange(spec string, size int64) (start, end int64, partial bool, err error) {
	full := func() (int64, int64, bool, error) { return 0, size, false, nil }
	spec = strings.TrimSpace(spec)
	rest, ok := strings.CutPrefix(spec, "bytes=")
	if spec == "" || !ok || strings.Contains(rest, ",") {
		return full()
	}
	first, last, ok := strings.Cut(strings.TrimSpace(rest), "-")
	if !ok {
		return full()
	}
	invalid := awserr.New(awserr.S3InvalidRange, "The requested range is not satisfiable").
		With("RangeRequested", spec).With("ActualObjectSize", strconv.FormatInt(size, 10))
	if first == "" { // suffix: the last N bytes
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil {
			return full()
		}
		if n <= 0 || size == 0 {
			return 0, 0, false, invalid
		}
		return max(size-n, 0), size, true, nil
	}
	a, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || a < 0 {
		return full()
	}
	b := size - 1
	if last != "" {
		if b, perr = strconv.ParseInt(last, 10, 64); perr != nil || b < a {
			return full()
		}
	}
	if a >= size {
		return 0, 0, false, invalid
	}
	return a, min(b+1, size), true, nil
}

// preconditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in S3's order: 412 as an error, 304 as a status.
func preconditions(r *http.Request, v objects.Version) (int, error) {
	modified := v.LastModified.UTC().Truncate(time.Second)
	failed := func(cond string) error {
		return awserr.New(awserr.S3PreconditionFailed, "At least one of the pre-conditions you specified did not hold").With("Condition", cond)
	}
	im := r.Header.Get("If-Match")
	if im != "" && !etagMatches(im, v.ETag) {
		return 0, failed("If-Match")
	}
	if ius := r.Header.Get("If-Unmodified-Since"); im == "" && ius != "" {
		if t, err := http.ParseTime(ius); err == nil && modified.After(t) {
			return 0, failed("If-Unmodified-Since")
		}
	}
	inm := r.Header.Get("If-None-Match")
	if inm != "" && etagMatches(inm, v.ETag) {
		return http.StatusNotModified, nil
	}
	if ims := r.Header.Get("If-Modified-Since"); inm == "" && ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			return http.StatusNotModified, nil
		}
	}
	return 0, nil
}

func etagMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
		if e == "*" || e == etag || `"`+e+`"` == etag {
			return true
		}
	}
	return false
}

func (s *Service) deleteObject(w http.ResponseWriter, r *http.Request, q *request) error {
	versionID, err := versionParam(q)
	if err != nil {
		return err
	}
	res, err := s.objs.DeleteObject(r.Context(), q.bucket, q.key, versionID)
	if err != nil {
		return toAWS(err, q)
	}
	if res.DeleteMarker {
		w.Header().Set("X-Amz-Delete-Marker", "true")
	}
	if res.VersionID != "" {
		w.Header().Set("X-Amz-Version-Id", res.VersionID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteObjects is POST /bucket?delete (aws s3 rm --recursive, rb --force).
func (s *Service) deleteObjects(w http.ResponseWriter, r *http.Request, q *request) error {
	var in struct {
		XMLName xml.Name `xml:"Delete"`
		Quiet   bool     `xml:"Quiet"`
		Objects []struct {
			Key       string `xml:"Key"`
			VersionID string `xml:"VersionId"`
		} `xml:"Object"`
	}
	if err := xml.Unmarshal(q.body, &in); err != nil || len(in.Objects) == 0 || len(in.Objects) > 1000 {
		return malformedXML()
	}
	if _, err := s.objs.GetBucket(r.Context(), q.bucket); err != nil {
		return toAWS(err, q)
	}
	type deletedXML struct {
		Key                   string `xml:"Key"`
		VersionID             string `xml:"VersionId,omitempty"`
		DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
		DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
	}
	type errorXML struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId,omitempty"`
		Code      string `xml:"Code"`
		Message   string `xml:"Message"`
	}
	out := struct {
		XMLName xml.Name     `xml:"DeleteResult"`
		Xmlns   string       `xml:"xmlns,attr"`
		Deleted []deletedXML `xml:"Deleted"`
		Errors  []errorXML   `xml:"Error"`
	}{Xmlns: xmlns}
	for _, o := range in.Objects {
		res, err := s.objs.DeleteObject(r.Context(), q.bucket, o.Key, o.VersionID)
		if err != nil {
			e := awserr.As(toAWS(err, &request{bucket: q.bucket, key: o.Key}))
			if e == nil {
				return err
			}
			out.Errors = append(out.Errors, errorXML{Key: o.Key, VersionID: o.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		if in.Quiet {
			continue
		}
		d := deletedXML{Key: o.Key, VersionID: o.VersionID, DeleteMarker: res.DeleteMarker}
		if res.DeleteMarker {
			d.DeleteMarkerVersionID = res.VersionID
		}
		out.Deleted = append(out.Deleted, d)
	}
	return writeXML(w, out)
}
