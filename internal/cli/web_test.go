package cli

import (
	"bytes"
	"context"
	"image/png"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/report/reporttest"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// twoRuns makes run_1 (initial, harness edit, weight update, test) and,
// later, run_2 (initial, harness edit) with the real loop.
func twoRuns(t *testing.T) string {
	t.Helper()
	runs := t.TempDir()
	if _, err := reporttest.MakeRun(t.Context(), runs, reporttest.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := reporttest.MakeRun(t.Context(), runs, reporttest.Options{RunID: "2", MaxGen: 2, Script: []string{"harness"}}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(runs, "run_1", "events.jsonl"), old, old); err != nil {
		t.Fatal(err)
	}
	return runs
}

func checkWidth(t *testing.T, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
}

func TestShowOptions(t *testing.T) {
	tests := []struct {
		args    []string
		runs    []string
		wantErr string
	}{
		{[]string{"--list"}, nil, ""},
		{nil, []string{"latest"}, ""},
		{nil, []string{"a", "b"}, ""},
		{nil, nil, "give a run"},
		{[]string{"--list"}, []string{"a"}, "takes no run"},
		{nil, []string{"a", "b", "c"}, "got 3"},
	}
	for _, tc := range tests {
		o := &showOptions{}
		fs := pflag.NewFlagSet("show", pflag.ContinueOnError)
		bindShowFlags(fs, o)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		o.Runs = tc.runs
		err := o.validate()
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v %v: %v, want %q", tc.args, tc.runs, err, tc.wantErr)
		}
		if o.RunsDir != "runs" {
			t.Errorf("default --runs-dir %q", o.RunsDir)
		}
	}
}

func TestShowListLatestAndSideBySide(t *testing.T) {
	runs := twoRuns(t)
	env := map[string]string{"SIA_RUNS_DIR": runs}

	out, stderr, code := runCLI(t, env, "show", "--list")
	if code != 0 {
		t.Fatalf("--list: %d %s", code, stderr)
	}
	checkWidth(t, out)
	for _, want := range []string{"run_1", "run_2", "demo", "3/3", "2/2", "finished", "1h ago"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runCLI(t, nil, "show", "--list", "--json", "--runs-dir", runs)
	if code != 0 || !strings.Contains(out, `"format_version": 1`) || strings.Count(out, `"name": "run_`) != 2 {
		t.Errorf("--list --json: %d\n%s", code, out)
	}
	out, _, code = runCLI(t, nil, "show", "--list", "--runs-dir", filepath.Join(runs, "none"))
	if code != 0 || !strings.Contains(out, "no runs in") {
		t.Errorf("--list of a missing folder: %d %q", code, out)
	}

	// latest is the most recently updated run: run_2.
	out, stderr, code = runCLI(t, env, "show", "latest")
	if code != 0 || !strings.HasPrefix(out, "run 2 ·") {
		t.Errorf("latest: %d %s\n%s", code, stderr, out)
	}
	out, _, code = runCLI(t, env, "show", "1", "--json")
	if code != 0 || !strings.Contains(out, `"run": "1"`) {
		t.Errorf("show 1: %d %s", code, out)
	}

	out, stderr, code = runCLI(t, env, "show", "run_1", "run_2")
	if code != 0 {
		t.Fatalf("side by side: %d %s", code, stderr)
	}
	checkWidth(t, out)
	var row3 string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "3 ") {
			row3 = l
		}
	}
	if !strings.Contains(out, "A: run_1") || !strings.Contains(out, "B: run_2") || !strings.Contains(row3, "weights") {
		t.Errorf("side by side:\n%s", out)
	}
	out, _, code = runCLI(t, env, "show", "run_1", "latest", "--json")
	if code != 0 || strings.Count(out, `"generations"`) != 2 {
		t.Errorf("side by side --json: %d %s", code, out)
	}

	for _, args := range [][]string{{"show"}, {"show", "--list", "run_1"}, {"show", "run_9"}} {
		_, stderr, code := runCLI(t, env, args...)
		if code == 0 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "sia: ") {
			t.Errorf("%v: %d %q", args, code, stderr)
		}
	}
}

func TestPlotCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs sia twice, then renders plots; .ci/run runs it")
	}
	runs := twoRuns(t)
	out := filepath.Join(t.TempDir(), "figs")
	stdout, stderr, code := runCLI(t, map[string]string{"SIA_RUNS_DIR": runs}, "plot", "run_1", "--out", out)
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	files := strings.Fields(stdout)
	if len(files) != 6 {
		t.Fatalf("files %v", files)
	}
	for _, f := range files {
		if !strings.HasPrefix(f, out) {
			t.Errorf("%s is not under --out", f)
		}
		if strings.HasSuffix(f, ".png") {
			r, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(r); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			r.Close()
		}
	}
	if _, stderr, code := runCLI(t, nil, "plot", filepath.Join(runs, "nope")); code == 0 || !strings.Contains(stderr, "no run") {
		t.Errorf("a missing run: %d %q", code, stderr)
	}
}

// startCLI runs the CLI in a goroutine until cancel; it returns stderr
// and the exit code once done.
func startCLI(t *testing.T, env map[string]string, args ...string) (*syncBuffer, context.CancelFunc, <-chan int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, args, Streams{In: strings.NewReader(""), Out: &syncBuffer{}, Err: errb}, func(k string) string { return env[k] })
	}()
	t.Cleanup(cancel)
	return errb, cancel, done
}

var urlRe = regexp.MustCompile(`at (http://\S+)`)

func waitURL(t *testing.T, errb *syncBuffer) string {
	t.Helper()
	for i := 0; i < 200; i++ {
		if m := urlRe.FindStringSubmatch(errb.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no URL printed: %q", errb.String())
	return ""
}

func TestWebCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs sia twice, then serves them; .ci/run runs it")
	}
	runs := twoRuns(t)
	errb, cancel, done := startCLI(t, nil, "web", "--runs-dir", runs, "--addr", "127.0.0.1:0")
	u := waitURL(t, errb)
	if !strings.HasPrefix(u, "http://127.0.0.1:") || strings.Contains(u, "token") {
		t.Errorf("loopback URL %q", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(body.String(), `data-run="run_2"`) {
		t.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after Ctrl-C: %s", code, errb.String())
	}
	if _, err := http.Get(u); err == nil {
		t.Error("still serving after it stopped")
	}
}

func TestWebBeyondLoopbackNeedsToken(t *testing.T) {
	runs := t.TempDir()
	errb, cancel, done := startCLI(t, nil, "web", "--runs-dir", runs, "--addr", "0.0.0.0:0")
	u := waitURL(t, errb)
	m := regexp.MustCompile(`^http://0\.0\.0\.0:(\d+)/\?token=([0-9a-f]{32})$`).FindStringSubmatch(u)
	if m == nil {
		t.Fatalf("URL %q: want a generated token", u)
	}
	local := "http://127.0.0.1:" + m[1] + "/"
	if resp, err := http.Get(local); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %v %v", resp, err)
	}
	req, _ := http.NewRequest(http.MethodGet, local, nil)
	req.Header.Set("Authorization", "Bearer "+m[2])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("with the token: %v %v", resp, err)
	}
	cancel()
	<-done

	// A given token is used as it is.
	errb, cancel, done = startCLI(t, nil, "web", "--runs-dir", runs, "--addr", "0.0.0.0:0", "--token", "mine")
	if u := waitURL(t, errb); !strings.HasSuffix(u, "/?token=mine") {
		t.Errorf("URL %q", u)
	}
	cancel()
	<-done
	_, stderr, code := runCLI(t, nil, "web", "--addr", "nocolon")
	if code == 0 || !strings.Contains(stderr, "want HOST:PORT") {
		t.Errorf("bad --addr: %d %q", code, stderr)
	}
}

// TestRunWithWeb: sia run --web serves the dashboard beside the run and
// stops it with the run; a bad --web-addr fails before the run folder is
// made.
func TestRunWithWeb(t *testing.T) {
	h := filepath.Join(t.TempDir(), "letters.star")
	if err := os.WriteFile(h, []byte(letterHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	env := map[string]string{"SIA_CACHE_DIR": t.TempDir()}
	args := []string{"run", "--task", "demo", "--mode", "harness", "--max-gen", "1", "--harness", h, "--runs-dir", runs, "--web"}
	_, stderr, code := runCLI(t, env, append(args, "--web-addr", "127.0.0.1:0")...)
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	m := regexp.MustCompile(`dashboard of \S+ at (http://127\.0\.0\.1:(\d+)/run/run_1)\n`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no dashboard URL in %q", stderr)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+m[2], time.Second); err == nil {
		c.Close()
		t.Error("the dashboard still listens after the run")
	}
	runs2 := t.TempDir()
	_, stderr, code = runCLI(t, env, append([]string{"run", "--task", "demo", "--harness", h, "--runs-dir", runs2, "--web"}, "--web-addr", "bad")...)
	if code == 0 || !strings.Contains(stderr, "--web-addr") {
		t.Errorf("bad --web-addr: %d %q", code, stderr)
	}
	if entries, _ := os.ReadDir(runs2); len(entries) != 0 {
		t.Errorf("run folder made before --web-addr was checked: %v", entries)
	}
}
