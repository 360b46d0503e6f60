package apigw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/awserr"
)

// decode reads the request body strictly into v (a pointer to a struct
// listing every member of the operation's input shape): malformed JSON, a
// member of the wrong JSON type, an unknown member or trailing data is a
// BadRequestException and v must not be used. An empty body is an empty
// object, as the SDKs send no body when no member is set.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, awsapi.MaxBodyBytes+1))
	if err != nil {
		return badRequest("Could not read the request body: %v", err)
	}
	if len(body) > awsapi.MaxBodyBytes {
		return awserr.New(awserr.RequestTooLarge, "Request body is larger than 10 MiB")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("Invalid JSON: unexpected data after the top-level object")
	}
	// encoding/json matches member names case-insensitively; AWS does not,
	// so a member spelled with other case is as unknown as any other.
	var generic any
	if err := json.Unmarshal(body, &generic); err != nil {
		return jsonError(err)
	}
	return checkMemberNames(generic, reflect.TypeOf(v), "")
}

// checkMemberNames walks a decoded JSON value alongside the Go type it was
// decoded into and refuses object keys that match a field only by case.
func checkMemberNames(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.RawMessage]() {
		return nil
	}
	switch val := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields := map[string]reflect.Type{}
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" || name == "-" {
					continue
				}
				fields[name] = f.Type
			}
			for k, child := range val {
				ft, ok := fields[k]
				if !ok {
					return badRequest("Invalid JSON: unrecognized member %q", path+k)
				}
				if err := checkMemberNames(child, ft, path+k+"."); err != nil {
					return err
				}
			}
		case reflect.Map:
			for k, child := range val {
				if err := checkMemberNames(child, t.Elem(), path+k+"."); err != nil {
					return err
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, child := range val {
				if err := checkMemberNames(child, t.Elem(), path); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jsonError turns an encoding/json error into a client message that names
// the member and never echoes Go type names.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return badRequest("Invalid JSON: %s at offset %d", syn.Error(), syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return badRequest("Invalid JSON: unexpected end of input")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("Invalid JSON: the request body must be a JSON object, not %s", article(typ.Value))
		}
		return badRequest("Invalid JSON: member '%s' must be %s, not %s", typ.Field, article(jsonKind(typ.Type)), article(typ.Value))
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("Invalid JSON: unrecognized member %s", f)
	}
	return badRequest("Invalid JSON: %v", err)
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

func article(kind string) string {
	switch kind {
	case "array", "object", "integer":
		return "an " + kind
	case "number", "string", "boolean", "bool":
		return "a " + kind
	}
	return kind
}

// pageSpec is one page request: where to resume (a sort key) and how many.
type pageSpec struct {
	after string // resume at the first key >= after; "" for the start
	limit int
}

const (
	defaultLimit = 25
	maxLimit     = 500
)

// v1Page reads ?position=&limit= (limit 1..500, default 25).
func v1Page(r *http.Request) (pageSpec, error) {
	return readPage(r, "position", "limit", defaultLimit)
}

// v2Page reads ?nextToken=&maxResults= (1..500, default 100).
func v2Page(r *http.Request) (pageSpec, error) {
	return readPage(r, "nextToken", "maxResults", 100)
}

func readPage(r *http.Request, tokenName, limitName string, def int) (pageSpec, error) {
	q := r.URL.Query()
	p := pageSpec{limit: def}
	if v := q.Get(limitName); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, badRequest("Invalid %s value %q: must be an integer between 1 and %d", limitName, v, maxLimit)
		}
		p.limit = n
	}
	if v := q.Get(tokenName); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			return p, badRequest("Invalid %s value %q", tokenName, v)
		}
		p.after = string(b)
	}
	return p, nil
}

// paginate sorts items by key and returns one page and the token of the
// next one ("" at the end). Resuming by key rather than by index keeps pages
// stable when items are added or removed between calls.
func paginate[T any](items []T, key func(T) string, p pageSpec) ([]T, string) {
	sort.SliceStable(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	start := sort.Search(len(items), func(i int) bool { return key(items[i]) >= p.after })
	end := min(start+p.limit, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(key(items[end])))
	}
	return items[start:end], next
}

// epochTime is a v1 timestamp: epoch seconds as a JSON number.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Time(t).Unix(), 10), nil
}

// isoTime is a v2 timestamp: an ISO 8601 string in UTC.
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339))
}

func epoch(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

func iso(t time.Time) *isoTime {
	if t.IsZero() {
		return nil
	}
	e := isoTime(t)
	return &e
}

// patchOp is one v1 patch operation.
type patchOp struct {
	Op    string  `json:"op"`
	Path  string  `json:"path"`
	Value *string `json:"value"`
	From  *string `json:"from"`
}

func (p patchOp) value() string {
	if p.Value == nil {
		return ""
	}
	return *p.Value
}

type patchInput struct {
	PatchOperations []patchOp `json:"patchOperations"`
}

// decodePatch reads {"patchOperations":[…]} and checks every op is one of
// JSON Patch's.
func decodePatch(r *http.Request) ([]patchOp, error) {
	var in patchInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	for _, op := range in.PatchOperations {
		switch op.Op {
		case "add", "remove", "replace", "move", "copy", "test":
		default:
			return nil, badRequest("Invalid patch operation specified: '%s'. Must be 'add'|'remove'|'replace'|'move'|'copy'|'test'", op.Op)
		}
		if op.Path == "" || op.Path[0] != '/' {
			return nil, badRequest("Invalid patch path '%s' specified for op '%s'. A patch path starts with '/'", op.Path, op.Op)
		}
	}
	return in.PatchOperations, nil
}

// parseBool reads a patch value as a boolean, case-insensitively, as the CLI
// forwards the user's spelling ("True").
func parseBool(op patchOp) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(op.value())) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errPatchValue(op, "Must be a boolean (true or false)")
}

// unescapePointer decodes one JSON-pointer segment (~1 is '/', ~0 is '~').
func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
