package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the trustgate command built once for the tests that run it as
// a user would: a separate process, configured by flags and environment.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trustgate-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "trustgate")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gateway is a running `trustgate serve` process.
type gateway struct {
	DataDir   string
	Listen    string
	Admin     string
	DNS       string
	AccessLog string
	cmd       *exec.Cmd
	stop      func()
}

// startGateway runs `trustgate serve` on loopback ports chosen by the kernel
// and waits for its "trustgate started" line. The process is stopped with
// SIGTERM at the end of the test, which must make it exit 0.
func startGateway(t *testing.T, extra ...string) *gateway {
	t.Helper()
	return startGatewayIn(t, filepath.Join(t.TempDir(), "data"), extra...)
}

// startGatewayIn is startGateway on a given data directory (restarts).
func startGatewayIn(t *testing.T, dataDir string, extra ...string) *gateway {
	t.Helper()
	g := &gateway{DataDir: dataDir}
	g.AccessLog = filepath.Join(t.TempDir(), "access.log")
	args := append([]string{"serve", "--data-dir", g.DataDir, "--listen", "127.0.0.1:0",
		"--admin-listen", "127.0.0.1:0", "--access-log", g.AccessLog, "--shutdown-timeout", "5s"}, extra...)
	g.cmd = exec.Command(binary, args...)
	g.cmd.Env = cleanEnv()
	stderr, err := g.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "gateway.log")
	logFile, _ := os.Create(logPath)
	started := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			logFile.Write(append(line, '\n'))
			var rec map[string]any
			if json.Unmarshal(line, &rec) == nil && rec["msg"] == "trustgate started" {
				started <- rec
			}
		}
		io.Copy(io.Discard, stderr)
		logFile.Close()
	}()
	exited := make(chan error, 1)
	go func() { exited <- g.cmd.Wait() }()
	select {
	case rec := <-started:
		g.Listen, _ = rec["listen"].(string)
		g.Admin, _ = rec["admin"].(string)
		g.DNS, _ = rec["dns"].(string)
	case err := <-exited:
		b, _ := os.ReadFile(logPath)
		t.Fatalf("trustgate exited before starting: %v\n%s", err, b)
	case <-time.After(30 * time.Second):
		g.cmd.Process.Kill()
		t.Fatal("trustgate did not start within 30s")
	}
	var once sync.Once
	g.stop = func() {
		once.Do(func() {
			g.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				if err != nil {
					b, _ := os.ReadFile(logPath)
					t.Errorf("trustgate exited with %v after SIGTERM\n%s", err, b)
				}
			case <-time.After(15 * time.Second):
				g.cmd.Process.Kill()
				t.Error("trustgate did not stop within 15s of SIGTERM")
			}
			if t.Failed() {
				b, _ := os.ReadFile(logPath)
				t.Logf("gateway log:\n%s", b)
			}
		})
	}
	t.Cleanup(g.stop)
	return g
}

// Stop sends SIGTERM and waits for a clean exit.
func (g *gateway) Stop() { g.stop() }

// cleanEnv is the environment without the caller's AWS and TRUSTGATE
// settings, so a developer's shell never leaks into a test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "TRUSTGATE_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func TestVersionAndUsage(t *testing.T) {
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "trustgate ") {
		t.Fatalf("version: %q, %v", out, err)
	}
	err = exec.Command(binary, "frobnicate").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("unknown command: err = %v, want exit 2", err)
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--region", "nowhere"},
		{"serve", "--listen", "no-port"},
		{"serve", "--account-id", "12"},
		{"serve", "--store", "mysql"},
	} {
		cmd := exec.Command(binary, args...)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: err = %v, want exit 2; output %s", args, err, out)
		}
		if !strings.Contains(string(out), "--"+strings.TrimPrefix(args[1], "--")) {
			t.Errorf("%v: message does not name the flag: %s", args, out)
		}
	}
}

func TestEnvFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "env")
	cmd.Env = append(cleanEnv(), "TRUSTGATE_DATA_DIR="+dir, "TRUSTGATE_ADMIN_LISTEN=127.0.0.1:4999")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_DEFAULT_REGION=us-east-1", "http://127.0.0.1:4999"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("env output lacks %q:\n%s", want, out)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials mode %o, want 600", fi.Mode().Perm())
	}
}
