package bolt

import (
	"os"
	"path/filepath"
	"testing"

	"trustgate/internal/store"
	"trustgate/internal/store/storetest"
)

func TestContract(t *testing.T) {
	paths := map[store.Store]string{}
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) store.Store {
			p := filepath.Join(t.TempDir(), "state.db")
			db, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			paths[db] = p
			return db
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			p := paths[s]
			s.Close()
			db, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	})
}

func TestFileMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Fatalf("mode = %o, want 600", m)
	}
}
