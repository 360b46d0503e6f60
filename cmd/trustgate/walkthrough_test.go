package main

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// clis are the AWS CLIs found on these machines: the pip-installed v1 first on
// PATH and Debian's v2 package.
func clis(t *testing.T) map[string]string {
	found := map[string]string{}
	if p, err := exec.LookPath("aws"); err == nil {
		found["path"] = p
	}
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		found["debian"] = "/usr/bin/aws"
	}
	// The same binary twice is one CLI.
	if found["path"] == found["debian"] {
		delete(found, "path")
	}
	return found
}

// requireTool skips when a tool is missing, or fails under CI
// (TRUSTGATE_REQUIRE_CLI=1), where .ci/run installs it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("TRUSTGATE_REQUIRE_CLI") == "1" {
			t.Fatalf("%s is not installed and TRUSTGATE_REQUIRE_CLI=1", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// walkthroughScript returns the sh blocks of docs/walkthrough.md joined in
// order, and the lines they must print, in order.
func walkthroughScript(t *testing.T) (script string, want []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "walkthrough.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	prints := regexp.MustCompile(`#\s*prints:\s*(.+)$`)
	var b strings.Builder
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "```sh":
			in = true
		case in && line == "```":
			in = false
		case in:
			b.WriteString(line + "\n")
			if m := prints.FindStringSubmatch(line); m != nil {
				want = append(want, strings.TrimSpace(m[1]))
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("walkthrough has no `# prints:` checks")
	}
	return b.String(), want
}

// TestWalkthrough runs docs/walkthrough.md with each AWS CLI against a real
// trustgate process and a real backend, and checks every line it says it
// prints: the seed flow of DESIGN §1, Route 53 alias and dig included.
func TestWalkthrough(t *testing.T) {
	requireTool(t, "openssl")
	requireTool(t, "curl")
	requireTool(t, "dig")
	found := clis(t)
	if len(found) == 0 {
		requireTool(t, "aws")
	}
	if _, ok := found["debian"]; !ok && os.Getenv("TRUSTGATE_REQUIRE_CLI") == "1" {
		t.Error("Debian's awscli (/usr/bin/aws) is missing and TRUSTGATE_REQUIRE_CLI=1")
	}
	script, want := walkthroughScript(t)
	for name, cli := range found {
		t.Run(name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen []string
			)
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Method+" "+r.URL.Path)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"customer":"42"}`))
			}))
			defer backend.Close()

			g := startGateway(t, "--dns-listen", "127.0.0.1:0")
			host, port, _ := net.SplitHostPort(g.Listen)
			_, dnsPort, _ := net.SplitHostPort(g.DNS)
			bin := t.TempDir()
			os.Symlink(cli, filepath.Join(bin, "aws"))
			os.Symlink(binary, filepath.Join(bin, "trustgate"))
			home := t.TempDir()
			empty := filepath.Join(home, "empty")
			os.WriteFile(empty, nil, 0o600)

			cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
			cmd.Dir = t.TempDir()
			cmd.Env = append(cleanEnv(),
				"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
				"HOME="+home,
				"AWS_CONFIG_FILE="+empty,
				"AWS_SHARED_CREDENTIALS_FILE="+empty,
				"AWS_PAGER=",
				"TRUSTGATE_DATA_DIR="+g.DataDir,
				"TRUSTGATE_ADMIN_LISTEN="+g.Admin,
				"GATEWAY_HOST="+host,
				"GATEWAY_PORT="+port,
				"BACKEND="+backend.URL,
				"DNS_PORT="+dnsPort,
			)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("walkthrough failed: %v\n%s", err, out)
			}
			rest := string(out)
			for _, w := range want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("walkthrough output lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 || seen[0] != "GET /customer/42" {
				t.Errorf("backend saw %v, want GET /customer/42 first", seen)
			}
		})
	}
}
