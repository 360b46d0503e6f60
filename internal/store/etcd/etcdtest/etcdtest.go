// Package etcdtest starts a throwaway etcd server for tests.
package etcdtest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Start runs a real single-member etcd on loopback for the test and returns
// its client URL; it is stopped when the test ends. Without the etcd binary
// (Debian's etcd-server package, which .ci/run installs) the test is skipped,
// or fails when TRUSTGATE_REQUIRE_CLI=1.
func Start(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("TRUSTGATE_REQUIRE_CLI") == "1" {
			t.Fatal("etcd is not installed and TRUSTGATE_REQUIRE_CLI=1")
		}
		t.Skip("etcd is not installed (Debian package etcd-server)")
	}
	client, peer := freePort(t), freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--name", "test", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", "http://"+peer, "--initial-advertise-peer-urls", "http://"+peer,
		"--initial-cluster", "test=http://"+peer, "--log-level", "error")
	logf, _ := os.Create(filepath.Join(dir, "etcd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := probe(ctx, "http://"+client)
		cancel()
		if err == nil {
			return "http://" + client
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "etcd.log"))
			t.Fatalf("etcd did not come up: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond) // polling a process we started, bounded by the deadline
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func probe(ctx context.Context, endpoint string) error {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Get(ctx, "probe")
	return err
}
