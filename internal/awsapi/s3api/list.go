package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/objects"
)

type contentXML struct {
	Key               string    `xml:"Key"`
	LastModified      string    `xml:"LastModified"`
	ETag              string    `xml:"ETag"`
	ChecksumAlgorithm []string  `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string    `xml:"ChecksumType,omitempty"`
	Size              int64     `xml:"Size"`
	StorageClass      string    `xml:"StorageClass"`
	Owner             *ownerXML `xml:"Owner,omitempty"`
}

type prefixXML struct {
	Prefix string `xml:"Prefix"`
}

// listParams are the parameters the listings share.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	urlEncoding       bool
}

func parseListParams(q *request) (listParams, error) {
	p := listParams{prefix: q.get("prefix"), delimiter: q.get("delimiter"), maxKeys: objects.DefaultMaxKeys}
	if q.has("max-keys") {
		n, err := strconv.Atoi(q.get("max-keys"))
		if err != nil || n < 0 {
			return p, awserr.New(awserr.S3InvalidArgument, "Provided max-keys not an integer or within integer range").
				With("ArgumentName", "max-keys").With("ArgumentValue", q.get("max-keys"))
		}
		p.maxKeys = min(n, objects.DefaultMaxKeys)
	}
	switch q.get("encoding-type") {
	case "":
	case "url":
		p.urlEncoding = true
	default:
		return p, awserr.New(awserr.S3InvalidArgument, "Invalid Encoding Method specified in Request").
			With("ArgumentName", "encoding-type").With("ArgumentValue", q.get("encoding-type"))
	}
	return p, nil
}

// enc applies encoding-type=url (form-encoded; '/' kept readable), which
// the CLIs ask for and decode.
func (p listParams) enc(s string) string {
	if !p.urlEncoding {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

func (p listParams) encodingType() string {
	if p.urlEncoding {
		return "url"
	}
	return ""
}

func (p listParams) prefixes(cps []string) []prefixXML {
	out := make([]prefixXML, 0, len(cps))
	for _, cp := range cps {
		out = append(out, prefixXML{Prefix: p.enc(cp)})
	}
	return out
}

func checksumAlgorithms(v objects.Version) ([]string, string) {
	if len(v.Checksums) == 0 {
		return nil, ""
	}
	algs := make([]string, 0, len(v.Checksums))
	for a := range v.Checksums {
		algs = append(algs, a)
	}
	sort.Strings(algs)
	return algs, "FULL_OBJECT"
}

func (p listParams) content(v objects.Version, withOwner bool) contentXML {
	c := contentXML{Key: p.enc(v.Key), LastModified: xmlTime(v.LastModified), ETag: v.ETag, Size: v.Size, StorageClass: "STANDARD"}
	c.ChecksumAlgorithm, c.ChecksumType = checksumAlgorithms(v)
	if withOwner {
		o := owner
		c.Owner = &o
	}
	return c
}

func (s *Service) listObjectsV2(w http.ResponseWriter, r *http.Request, q *request) error {
	p, err := parseListParams(q)
	if err != nil {
		return err
	}
	after := q.get("start-after")
	token := q.get("continuation-token")
	if q.has("continuation-token") {
		dec, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(dec) == 0 {
			return awserr.New(awserr.S3InvalidArgument, "The continuation token provided is incorrect").
				With("ArgumentName", "continuation-token").With("ArgumentValue", token)
		}
		after = max(after, string(dec))
	}
	res, err := s.objs.ListObjects(r.Context(), q.bucket, objects.ListInput{Prefix: p.prefix, Delimiter: p.delimiter, After: after, MaxKeys: p.maxKeys})
	if err != nil {
		return toAWS(err, q)
	}
	out := struct {
		XMLName               xml.Name     `xml:"ListBucketResult"`
		Xmlns                 string       `xml:"xmlns,attr"`
		Name                  string       `xml:"Name"`
		Prefix                string       `xml:"Prefix"`
		Delimiter             string       `xml:"Delimiter,omitempty"`
		MaxKeys               int          `xml:"MaxKeys"`
		KeyCount              int          `xml:"KeyCount"`
		IsTruncated           bool         `xml:"IsTruncated"`
		ContinuationToken     string       `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string       `xml:"NextContinuationToken,omitempty"`
		StartAfter            string       `xml:"StartAfter,omitempty"`
		EncodingType          string       `xml:"EncodingType,omitempty"`
		Contents              []contentXML `xml:"Contents"`
		CommonPrefixes        []prefixXML  `xml:"CommonPrefixes"`
	}{
		Xmlns: xmlns, Name: q.bucket, Prefix: p.enc(p.prefix), Delimiter: p.enc(p.delimiter), MaxKeys: p.maxKeys,
		KeyCount: len(res.Objects) + len(res.CommonPrefixes), IsTruncated: res.IsTruncated,
		ContinuationToken: token, StartAfter: p.enc(q.get("start-after")), EncodingType: p.encodingType(),
		CommonPrefixes: p.prefixes(res.CommonPrefixes),
	}
	if res.IsTruncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Next))
	}
	fetchOwner := q.get("fetch-owner") == "true"
	for _, v := range res.Objects {
		out.Contents = append(out.Contents, p.content(v, fetchOwner))
	}
	return writeXML(w, out)
}

func (s *Service) listObjectsV1(w http.ResponseWriter, r *http.Request, q *request) error {
	p, err := parseListParams(q)
	if err != nil {
		return err
	}
	marker := q.get("marker")
	after := marker
	// A marker that ends in the delimiter names a common prefix: continue
	// past everything rolled up into it.
	if p.delimiter != "" && strings.HasPrefix(marker, p.prefix) && strings.HasSuffix(marker, p.delimiter) {
		after = objects.AfterPrefix(marker)
	}
	res, err := s.objs.ListObjects(r.Context(), q.bucket, objects.ListInput{Prefix: p.prefix, Delimiter: p.delimiter, After: after, MaxKeys: p.maxKeys})
	if err != nil {
		return toAWS(err, q)
	}
	out := struct {
		XMLName        xml.Name     `xml:"ListBucketResult"`
		Xmlns          string       `xml:"xmlns,attr"`
		Name           string       `xml:"Name"`
		Prefix         string       `xml:"Prefix"`
		Marker         string       `xml:"Marker"`
		NextMarker     string       `xml:"NextMarker,omitempty"`
		MaxKeys        int          `xml:"MaxKeys"`
		Delimiter      string       `xml:"Delimiter,omitempty"`
		IsTruncated    bool         `xml:"IsTruncated"`
		EncodingType   string       `xml:"EncodingType,omitempty"`
		Contents       []contentXML `xml:"Contents"`
		CommonPrefixes []prefixXML  `xml:"CommonPrefixes"`
	}{
		Xmlns: xmlns, Name: q.bucket, Prefix: p.enc(p.prefix), Marker: p.enc(marker), MaxKeys: p.maxKeys,
		Delimiter: p.enc(p.delimiter), IsTruncated: res.IsTruncated, EncodingType: p.encodingType(),
		CommonPrefixes: p.prefixes(res.CommonPrefixes),
	}
	if res.IsTruncated {
		out.NextMarker = p.enc(strings.TrimSuffix(res.Next, "\xff"))
	}
	for _, v := range res.Objects {
		out.Contents = append(out.Contents, p.content(v, true))
	}
	return writeXML(w, out)
}

// versionEntryXML is a <Version> or a <DeleteMarker>, in listing order.
type versionEntryXML struct {
	XMLName           xml.Name
	Key               string   `xml:"Key"`
	VersionID         string   `xml:"VersionId"`
	IsLatest          bool     `xml:"IsLatest"`
	LastModified      string   `xml:"LastModified"`
	ETag              string   `xml:"ETag,omitempty"`
	ChecksumAlgorithm []string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
	Size              *int64   `xml:"Size,omitempty"`
	StorageClass      string   `xml:"StorageClass,omitempty"`
	Owner             ownerXML `xml:"Owner"`
}

func (s *Service) listObjectVersions(w http.ResponseWriter, r *http.Request, q *request) error {
	p, err := parseListParams(q)
	if err != nil {
		return err
	}
	keyMarker, vidMarker := q.get("key-marker"), q.get("version-id-marker")
	if vidMarker != "" && keyMarker == "" {
		return awserr.New(awserr.S3InvalidArgument, "A version-id marker cannot be specified without a key marker.").
			With("ArgumentName", "version-id-marker").With("ArgumentValue", vidMarker)
	}
	res, err := s.objs.ListObjectVersions(r.Context(), q.bucket, objects.VersionsInput{
		Prefix: p.prefix, Delimiter: p.delimiter, KeyMarker: keyMarker, VersionIDMarker: vidMarker, MaxKeys: p.maxKeys,
	})
	if err != nil {
		return toAWS(err, q)
	}
	out := struct {
		XMLName             xml.Name          `xml:"ListVersionsResult"`
		Xmlns               string            `xml:"xmlns,attr"`
		Name                string            `xml:"Name"`
		Prefix              string            `xml:"Prefix"`
		KeyMarker           string            `xml:"KeyMarker"`
		VersionIDMarker     string            `xml:"VersionIdMarker"`
		NextKeyMarker       string            `xml:"NextKeyMarker,omitempty"`
		NextVersionIDMarker string            `xml:"NextVersionIdMarker,omitempty"`
		MaxKeys             int               `xml:"MaxKeys"`
		Delimiter           string            `xml:"Delimiter,omitempty"`
		IsTruncated         bool              `xml:"IsTruncated"`
		EncodingType        string            `xml:"EncodingType,omitempty"`
		Entries             []versionEntryXML `xml:",any"`
		CommonPrefixes      []prefixXML       `xml:"CommonPrefixes"`
	}{
		Xmlns: xmlns, Name: q.bucket, Prefix: p.enc(p.prefix), KeyMarker: p.enc(keyMarker), VersionIDMarker: vidMarker,
		MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter), IsTruncated: res.IsTruncated, EncodingType: p.encodingType(),
		CommonPrefixes: p.prefixes(res.CommonPrefixes),
	}
	if res.IsTruncated {
		out.NextKeyMarker, out.NextVersionIDMarker = p.enc(res.NextKeyMarker), res.NextVersionIDMarker
	}
	for _, v := range res.Versions {
		e := versionEntryXML{Key: p.enc(v.Key), VersionID: v.VersionID, IsLatest: v.IsLatest, LastModified: xmlTime(v.LastModified), Owner: owner}
		if v.DeleteMarker {
			e.XMLName.Local = "DeleteMarker"
		} else {
			e.XMLName.Local = "Version"
			size := v.Size
			e.ETag, e.Size, e.StorageClass = v.ETag, &size, "STANDARD"
			e.ChecksumAlgorithm, e.ChecksumType = checksumAlgorithms(v)
		}
		out.Entries = append(out.Entries, e)
	}
	return writeXML(w, out)
}
