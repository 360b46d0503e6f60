package objects_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"trustgate/internal/model"
	"trustgate/internal/objects"
	"trustgate/internal/store/bolt"
)

func openStore(t *testing.T, path string) (*objects.Store, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	return objects.New(db, objects.WithClock(now)), db
}

func newStore(t *testing.T) *objects.Store {
	t.Helper()
	s, db := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	t.Cleanup(func() { db.Close() })
	return s
}

func mustPut(t *testing.T, s *objects.Store, bucket, key, data string) objects.Version {
	t.Helper()
	v, err := s.PutObject(context.Background(), objects.PutInput{Bucket: bucket, Key: key, Data: []byte(data), ContentType: "text/plain"})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return v
}

func TestBuckets(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, name := range []string{"ab", "Upper", "a_b", "-ab", "ab-", "a..b", "192.168.1.1", "xn--abc"} {
		if _, err := s.CreateBucket(ctx, name); !errors.Is(err, objects.ErrInvalidBucketName) {
			t.Errorf("CreateBucket(%q): %v, want ErrInvalidBucketName", name, err)
		}
	}
	if _, err := s.CreateBucket(ctx, "partners-trust-store"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBucket(ctx, "partners-trust-store"); !errors.Is(err, objects.ErrBucketExists) {
		t.Errorf("second create: %v", err)
	}
	s.CreateBucket(ctx, "another.bucket")
	bs, err := s.ListBuckets(ctx)
	if err != nil || len(bs) != 2 || bs[0].Name != "another.bucket" {
		t.Fatalf("ListBuckets: %v %+v", err, bs)
	}
	mustPut(t, s, "partners-trust-store", "k", "v")
	if err := s.DeleteBucket(ctx, "partners-trust-store"); !errors.Is(err, objects.ErrBucketNotEmpty) {
		t.Errorf("delete non-empty: %v", err)
	}
	if _, err := s.DeleteObject(ctx, "partners-trust-store", "k", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "partners-trust-store"); err != nil {
		t.Errorf("delete emptied bucket: %v", err)
	}
	if _, err := s.GetBucket(ctx, "partners-trust-store"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("get deleted: %v", err)
	}
	if err := s.DeleteBucket(ctx, "nope-nope"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("delete missing: %v", err)
	}
	if err := s.SetVersioning(ctx, "another.bucket", "On"); !errors.Is(err, objects.ErrInvalidVersioning) {
		t.Errorf("bad versioning: %v", err)
	}
	if _, err := s.PutObject(ctx, objects.PutInput{Bucket: "nope-nope", Key: "k"}); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("put into missing bucket: %v", err)
	}
}

func TestUnversioned(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	v1 := mustPut(t, s, "bkt", "trusted_partners.pem", "one")
	if v1.VersionID != "" || v1.ETag != `"f97c5d29941bfb1b2fdab0874906ab82"` || v1.Size != 3 {
		t.Errorf("put: %+v", v1)
	}
	mustPut(t, s, "bkt", "trusted_partners.pem", "two")
	data, got, err := s.GetObject(ctx, "bkt", "trusted_partners.pem", "")
	if err != nil || string(data) != "two" || got != "" {
		t.Errorf("GetObject: %q %q %v", data, got, err)
	}
	// The null version can be named even in a never-versioned bucket.
	if data, _, err := s.GetObject(ctx, "bkt", "trusted_partners.pem", "null"); err != nil || string(data) != "two" {
		t.Errorf("GetObject null: %q %v", data, err)
	}
	vs, _ := s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{MaxKeys: 1000})
	if len(vs.Versions) != 1 || vs.Versions[0].VersionID != "null" || !vs.Versions[0].IsLatest {
		t.Errorf("versions after overwrite: %+v", vs.Versions)
	}
	if _, _, err := s.GetObject(ctx, "bkt", "missing", ""); !errors.Is(err, objects.ErrNoSuchKey) {
		t.Errorf("missing key: %v", err)
	}
	if _, _, err := s.GetObject(ctx, "bkt", "trusted_partners.pem", "v9"); !errors.Is(err, objects.ErrNoSuchVersion) {
		t.Errorf("missing version: %v", err)
	}
	if _, _, err := s.GetObject(ctx, "nobucket", "k", ""); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("missing bucket: %v", err)
	}
	res, err := s.DeleteObject(ctx, "bkt", "trusted_partners.pem", "")
	if err != nil || res.DeleteMarker || res.VersionID != "" {
		t.Errorf("delete: %+v %v", res, err)
	}
	if _, _, err := s.GetObject(ctx, "bkt", "trusted_partners.pem", ""); !errors.Is(err, objects.ErrNoSuchKey) {
		t.Errorf("after delete: %v", err)
	}
}

func TestVersioned(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	old := mustPut(t, s, "bkt", "ts.pem", "before") // null version from before versioning
	if err := s.SetVersioning(ctx, "bkt", model.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	v1 := mustPut(t, s, "bkt", "ts.pem", "one")
	v2 := mustPut(t, s, "bkt", "ts.pem", "two")
	if v1.VersionID == v2.VersionID || v1.VersionID == "null" || len(v1.VersionID) < 20 {
		t.Fatalf("version ids %q %q", v1.VersionID, v2.VersionID)
	}
	for id, want := range map[string]string{"": "two", v1.VersionID: "one", v2.VersionID: "two", "null": "before"} {
		data, got, err := s.GetObject(ctx, "bkt", "ts.pem", id)
		wantID := id
		if id == "" {
			wantID = v2.VersionID
		}
		if err != nil || string(data) != want || got != wantID {
			t.Errorf("GetObject(%q) = %q, %q, %v; want %q, %q", id, data, got, err, want, wantID)
		}
	}
	_ = old
	del, err := s.DeleteObject(ctx, "bkt", "ts.pem", "")
	if err != nil || !del.DeleteMarker || del.VersionID == "" || del.VersionID == "null" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	v, _, err := s.Get(ctx, "bkt", "ts.pem", "", false)
	if !errors.Is(err, objects.ErrNoSuchKey) || !v.DeleteMarker || v.VersionID != del.VersionID {
		t.Errorf("latest after delete: %+v %v", v, err)
	}
	if _, _, err := s.Get(ctx, "bkt", "ts.pem", del.VersionID, false); !errors.Is(err, objects.ErrDeleteMarker) {
		t.Errorf("get marker by id: %v", err)
	}
	if data, _, err := s.GetObject(ctx, "bkt", "ts.pem", v1.VersionID); err != nil || string(data) != "one" {
		t.Errorf("old version after delete: %q %v", data, err)
	}
	vs, err := s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs.Versions {
		ids = append(ids, fmt.Sprintf("%s:%v:%v", v.VersionID, v.DeleteMarker, v.IsLatest))
	}
	want := []string{del.VersionID + ":true:true", v2.VersionID + ":false:false", v1.VersionID + ":false:false", "null:false:false"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("versions\n got %v\nwant %v", ids, want)
	}
	// Removing the delete marker brings the object back.
	res, err := s.DeleteObject(ctx, "bkt", "ts.pem", del.VersionID)
	if err != nil || !res.DeleteMarker || res.VersionID != del.VersionID {
		t.Errorf("delete marker removal: %+v %v", res, err)
	}
	if data, _, err := s.GetObject(ctx, "bkt", "ts.pem", ""); err != nil || string(data) != "two" {
		t.Errorf("after marker removal: %q %v", data, err)
	}
	// Permanently deleting a version.
	if _, err := s.DeleteObject(ctx, "bkt", "ts.pem", v1.VersionID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetObject(ctx, "bkt", "ts.pem", v1.VersionID); !errors.Is(err, objects.ErrNoSuchVersion) {
		t.Errorf("deleted version: %v", err)
	}
}

func TestSuspended(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	s.SetVersioning(ctx, "bkt", model.VersioningEnabled)
	v1 := mustPut(t, s, "bkt", "k", "one")
	s.SetVersioning(ctx, "bkt", model.VersioningSuspended)
	n1 := mustPut(t, s, "bkt", "k", "null-1")
	n2 := mustPut(t, s, "bkt", "k", "null-2")
	if n1.VersionID != "null" || n2.VersionID != "null" {
		t.Fatalf("suspended puts: %q %q", n1.VersionID, n2.VersionID)
	}
	vs, _ := s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{MaxKeys: 1000})
	if len(vs.Versions) != 2 || vs.Versions[0].VersionID != "null" || vs.Versions[1].VersionID != v1.VersionID {
		t.Fatalf("versions: %+v", vs.Versions)
	}
	del, _ := s.DeleteObject(ctx, "bkt", "k", "")
	if del.VersionID != "null" || !del.DeleteMarker {
		t.Errorf("suspended delete: %+v", del)
	}
	vs, _ = s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{MaxKeys: 1000})
	if len(vs.Versions) != 2 || !vs.Versions[0].DeleteMarker || vs.Versions[1].VersionID != v1.VersionID {
		t.Errorf("versions after suspended delete: %+v", vs.Versions)
	}
}

func TestListObjects(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	s.SetVersioning(ctx, "bkt", model.VersioningEnabled)
	keys := []string{"a", "a/b", "a/c/d", "a0", "b", "b/x", "c d", "é", "z/1", "z/2", "gone"}
	for _, k := range keys {
		mustPut(t, s, "bkt", k, "data-"+k)
		mustPut(t, s, "bkt", k, "data2-"+k) // an older version that must not list
	}
	s.DeleteObject(ctx, "bkt", "gone", "")

	all, err := s.ListObjects(ctx, "bkt", objects.ListInput{MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range all.Objects {
		got = append(got, o.Key)
		if o.Size != int64(len("data2-"+o.Key)) {
			t.Errorf("%s: size %d (an old version listed?)", o.Key, o.Size)
		}
	}
	want := []string{"a", "a/b", "a/c/d", "a0", "b", "b/x", "c d", "z/1", "z/2", "é"}
	if !reflect.DeepEqual(got, want) || all.IsTruncated {
		t.Errorf("all keys\n got %q\nwant %q", got, want)
	}

	d, _ := s.ListObjects(ctx, "bkt", objects.ListInput{Delimiter: "/", MaxKeys: 1000})
	if keysOf(d.Objects) != "a a0 b c d é" || fmt.Sprint(d.CommonPrefixes) != "[a/ b/ z/]" {
		t.Errorf("delimiter: %q %v", keysOf(d.Objects), d.CommonPrefixes)
	}
	p, _ := s.ListObjects(ctx, "bkt", objects.ListInput{Prefix: "a/", Delimiter: "/", MaxKeys: 1000})
	if keysOf(p.Objects) != "a/b" || fmt.Sprint(p.CommonPrefixes) != "[a/c/]" {
		t.Errorf("prefix a/: %q %v", keysOf(p.Objects), p.CommonPrefixes)
	}
	sa, _ := s.ListObjects(ctx, "bkt", objects.ListInput{After: "b", MaxKeys: 1000})
	if keysOf(sa.Objects) != "b/x c d z/1 z/2 é" {
		t.Errorf("start after b: %q", keysOf(sa.Objects))
	}

	// Paging one entry at a time through a delimited listing sees each
	// key and common prefix exactly once.
	var paged []string
	in := objects.ListInput{Delimiter: "/", MaxKeys: 1}
	for i := 0; i < 20; i++ {
		page, err := s.ListObjects(ctx, "bkt", in)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			paged = append(paged, o.Key)
		}
		paged = append(paged, page.CommonPrefixes...)
		if !page.IsTruncated {
			break
		}
		in.After = page.Next
	}
	if fmt.Sprint(paged) != "[a a/ a0 b b/ c d z/ é]" {
		t.Errorf("paged: %q", paged)
	}
}

func keysOf(vs []objects.Version) string {
	var s []string
	for _, v := range vs {
		s = append(s, v.Key)
	}
	return fmt.Sprint(s)[1 : len(fmt.Sprint(s))-1]
}

func TestListObjectVersionsPaging(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	s.SetVersioning(ctx, "bkt", model.VersioningEnabled)
	for _, k := range []string{"x", "y/1", "y/2", "z"} {
		for i := 0; i < 3; i++ {
			mustPut(t, s, "bkt", k, fmt.Sprint(i))
		}
	}
	s.DeleteObject(ctx, "bkt", "z", "")
	full, _ := s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{MaxKeys: 1000})
	if len(full.Versions) != 13 {
		t.Fatalf("%d versions", len(full.Versions))
	}
	for _, size := range []int{1, 2, 5} {
		var paged []objects.Version
		in := objects.VersionsInput{MaxKeys: size}
		for i := 0; i < 50; i++ {
			page, err := s.ListObjectVersions(ctx, "bkt", in)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Versions) > size {
				t.Fatalf("page of %d > %d", len(page.Versions), size)
			}
			paged = append(paged, page.Versions...)
			if !page.IsTruncated {
				break
			}
			in.KeyMarker, in.VersionIDMarker = page.NextKeyMarker, page.NextVersionIDMarker
		}
		if !reflect.DeepEqual(paged, full.Versions) {
			t.Errorf("page size %d: %d versions, want %d", size, len(paged), len(full.Versions))
		}
	}
	d, _ := s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{Delimiter: "/", MaxKeys: 4})
	if len(d.Versions) != 3 || fmt.Sprint(d.CommonPrefixes) != "[y/]" || !d.IsTruncated {
		t.Errorf("delimited: %d versions %v truncated=%v", len(d.Versions), d.CommonPrefixes, d.IsTruncated)
	}
	d2, _ := s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{Delimiter: "/", MaxKeys: 10, KeyMarker: d.NextKeyMarker, VersionIDMarker: d.NextVersionIDMarker})
	if len(d2.Versions) != 4 || d2.Versions[0].Key != "z" || !d2.Versions[0].DeleteMarker || len(d2.CommonPrefixes) != 0 {
		t.Errorf("after prefix: %+v %v", d2.Versions, d2.CommonPrefixes)
	}
	pk, _ := s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{KeyMarker: "x", MaxKeys: 1000})
	if len(pk.Versions) != 10 || pk.Versions[0].Key != "y/1" {
		t.Errorf("key marker x: %d versions", len(pk.Versions))
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, db := openStore(t, path)
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	s.SetVersioning(ctx, "bkt", model.VersioningEnabled)
	v := mustPut(t, s, "bkt", "dir/ts.pem", "pem-bytes")
	db.Close()
	s2, db2 := openStore(t, path)
	defer db2.Close()
	data, got, err := s2.GetObject(ctx, "bkt", "dir/ts.pem", v.VersionID)
	if err != nil || string(data) != "pem-bytes" || got != v.VersionID {
		t.Errorf("after reopen: %q %q %v", data, got, err)
	}
	b, err := s2.GetBucket(ctx, "bkt")
	if err != nil || b.Versioning != model.VersioningEnabled {
		t.Errorf("bucket after reopen: %+v %v", b, err)
	}
}

func TestKeys(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	long := make([]byte, 1025)
	for i := range long {
		long[i] = 'k'
	}
	for _, k := range []string{"", "a\x00b", "\xff", string(long)} {
		if _, err := s.PutObject(ctx, objects.PutInput{Bucket: "bkt", Key: k}); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
	if _, err := s.PutObject(ctx, objects.PutInput{Bucket: "bkt", Key: string(long[:1024])}); err != nil {
		t.Errorf("1024-byte key: %v", err)
	}
	if _, err := s.PutObject(ctx, objects.PutInput{Bucket: "bkt", Key: "k", Data: make([]byte, objects.MaxObjectBytes+1)}); !errors.Is(err, objects.ErrTooLarge) {
		t.Errorf("oversized object: %v", err)
	}
}

func TestConcurrentPuts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	s.SetVersioning(ctx, "bkt", model.VersioningEnabled)
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.PutObject(ctx, objects.PutInput{Bucket: "bkt", Key: "k", Data: []byte(fmt.Sprint(i))})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = v.VersionID
		}()
	}
	wg.Wait()
	vs, _ := s.ListObjectVersions(ctx, "bkt", objects.VersionsInput{MaxKeys: 1000})
	var listed []string
	seqs := map[int64]bool{}
	for _, v := range vs.Versions {
		listed = append(listed, v.VersionID)
		seqs[v.Seq] = true
	}
	sort.Strings(ids)
	sort.Strings(listed)
	if !reflect.DeepEqual(ids, listed) || len(seqs) != 16 {
		t.Errorf("concurrent puts: %d versions, %d distinct seqs", len(listed), len(seqs))
	}
}
