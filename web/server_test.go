package web_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/web"
)

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7878": true, "localhost:80": true, "[::1]:9000": true, "127.8.9.10:1": true,
		":7878": false, "0.0.0.0:7878": false, "[::]:1": false, "192.168.1.5:80": false, "example.com:80": false,
	} {
		if got := web.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}

func TestNewNeedsATokenBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:7878", "", true},
		{"0.0.0.0:7878", "", false},
		{":7878", "", false},
		{"0.0.0.0:7878", "secret", true},
	} {
		_, err := web.New(web.Config{RunsDir: dir, Addr: tc.addr, Token: tc.token})
		if (err == nil) != tc.ok || (!tc.ok && !errors.Is(err, web.ErrNeedsToken)) {
			t.Errorf("%s token %q: %v", tc.addr, tc.token, err)
		}
	}
}

// serve starts the dashboard over runsDir on a loopback httptest server.
func serve(t *testing.T, runsDir, token string) (*httptest.Server, *web.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	srv, err := web.New(web.Config{RunsDir: runsDir, Addr: ts.Listener.Addr().String(), Token: token,
		Poll: 20 * time.Millisecond, Heartbeat: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		ts.CloseClientConnections() // open event streams end with their connection
		ts.Close()
	})
	return ts, srv
}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (int, string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp
}

func TestGuard(t *testing.T) {
	ts, _ := serve(t, fixtureRuns, "")
	c := ts.Client()
	if code, _, _ := get(t, c, ts.URL+"/"); code != 200 {
		t.Errorf("loopback GET: %d", code)
	}
	if code, _, _ := get(t, c, ts.URL+"/", "Host", "attacker.example:80"); code != http.StatusForbidden {
		t.Errorf("a foreign Host on a loopback server: %d, want 403 (DNS rebinding)", code)
	}
	resp, err := c.Post(ts.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	_, _, r := get(t, c, ts.URL+"/")
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestTokenOnEveryRequest(t *testing.T) {
	ts, srv := serve(t, fixtureRuns, "s3cret")
	noRedirect := *ts.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &noRedirect
	for _, path := range []string{"/", "/run/run_1", "/static/style.css", "/run/run_1/events"} {
		if code, _, _ := get(t, c, ts.URL+path); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, code)
		}
	}
	if code, _, _ := get(t, c, ts.URL+"/?token=wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	if code, _, _ := get(t, c, ts.URL+"/run/run_1", "Authorization", "Bearer s3cret"); code != 200 {
		t.Errorf("bearer: %d", code)
	}
	code, _, resp := get(t, c, ts.URL+"/run/run_1?token=s3cret")
	if code != http.StatusSeeOther || resp.Header.Get("Location") != "/run/run_1" {
		t.Fatalf("token in the URL: %d → %q", code, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "sia_token" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", cookie)
	}
	if code, _, _ := get(t, c, ts.URL+"/run/run_1", "Cookie", "sia_token=s3cret"); code != 200 {
		t.Errorf("cookie: %d", code)
	}
	if u := srv.URL("/"); !strings.HasSuffix(u, "/?token=s3cret") {
		t.Errorf("URL %q", u)
	}
}

// events reads the fixture's events.jsonl directly.
func events(t *testing.T, runDir string) []runstore.Event {
	t.Helper()
	ev, err := runstore.ReadEvents(runDir)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestPages(t *testing.T) {
	ts, _ := serve(t, fixtureRuns, "")
	c := ts.Client()
	runDir := filepath.Join(fixtureRuns, "run_1")
	r, err := report.Open(runDir)
	if err != nil {
		t.Fatal(err)
	}
	var scores []string
	for _, e := range events(t, runDir) {
		if e.Type == runstore.EvVerified {
			scores = append(scores, fmt.Sprintf("%.4f", *e.Score))
		}
	}
	tests := []struct {
		path string
		code int
		want []string
	}{
		{"/", 200, []string{`data-run="run_1"`, fmt.Sprintf("%.4f (gen %d)", r.Summary.Best.Score, r.Summary.Best.Gen), fmt.Sprintf("%.4f", *r.Summary.TestScore)}},
		{"/run/run_1", 200, append([]string{`id="score-chart"`, `id="decision-2-made"`, `data-metric="grad_norm"`, "scripted: weights after gen 2"}, scores...)},
		{"/run/run_1/gen/3", 200, []string{"How it came to be", `data-metric="entropy"`, "gen_3/train.jsonl"}},
		{"/run/run_1/diff?from=1&to=2", 200, []string{"max_tokens = 14,", `data-knob="variant"`}},
		{"/run/run_1/diff?from=2&to=3", 200, []string{`id="diff-same"`}},
		{"/run/run_1/diff?from=1&to=9", 400, nil},
		{"/run/run_1/gen/2/rollouts", 200, []string{`data-item="val-000"`}},
		{"/run/run_1/gen/2/rollouts?status=correct", 200, []string{"with a <b>correct</b> sample"}},
		{"/run/run_1/gen/2/item?id=val-000", 200, []string{`data-sample="0"`, `data-kind="model"`}},
		{"/run/run_1/gen/2/item?id=nope", 404, nil},
		{"/run/run_1/gen/9", 404, nil},
		{"/run/run_1/gen/x/rollouts", 404, nil},
		{"/run/nope", 404, nil},
		{"/run/%2e%2e", 404, nil},
		{"/run/run_1%2f..%2f..", 404, nil},
		{"/run/.hidden", 404, nil},
		{"/static/app.js", 200, []string{"EventSource"}},
	}
	for _, tc := range tests {
		code, body, _ := get(t, c, ts.URL+tc.path)
		if code != tc.code {
			t.Errorf("%s: %d, want %d", tc.path, code, tc.code)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
	}
	// The live fragment is the page's live part only.
	_, frag, _ := get(t, c, ts.URL+"/run/run_1?fragment=live")
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="gens"`) {
		t.Errorf("fragment: %.200s", frag)
	}
}

// TestRunsDirAbsent: the dashboard starts before any run exists.
func TestRunsDirAbsent(t *testing.T) {
	ts, _ := serve(t, filepath.Join(t.TempDir(), "later"), "")
	code, body, _ := get(t, ts.Client(), ts.URL+"/")
	if code != 200 || !strings.Contains(body, "does not exist yet") {
		t.Errorf("%d %s", code, body)
	}
}

// TestUnknownDecisionFields: a field the dashboard does not know (a
// selection test's gain interval, written by a later sia) is shown as is.
func TestUnknownDecisionFields(t *testing.T) {
	runs := t.TempDir()
	copyDir(t, filepath.Join(fixtureRuns, "run_1"), filepath.Join(runs, "run_1"))
	p := filepath.Join(runs, "run_1", "gen_3", "decision.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "{", `{"selection": {"test": "paired", "gain": 0.0312, "gain_lo": -0.0071, "gain_hi": 0.0695, "wins": "3/4"},`, 1))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ts, _ := serve(t, runs, "")
	for _, path := range []string{"/run/run_1", "/run/run_1/gen/3"} {
		_, body, _ := get(t, ts.Client(), ts.URL+path)
		for _, w := range []string{`data-key="selection.gain_lo"`, "-0.0071", "0.0695", "3/4", "paired"} {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}
}

// TestNoGoldOnItemPages: an item answered wrongly never shows its gold
// word (the run folder has none; the dashboard reads nothing else).
func TestNoGoldOnItemPages(t *testing.T) {
	reg, err := bundled.Registry()
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open("demo", task.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	gold := data.Gold(task.Val)
	f, err := os.Open(filepath.Join(fixtureRuns, "run_1", "gen_2", "rollouts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	trajs, err := trajectory.Read(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := serve(t, fixtureRuns, "")
	checked := 0
	for _, tr := range trajs {
		if tr.Status == "correct" || checked >= 10 {
			continue
		}
		g := gold[tr.Item]
		if g == "" {
			t.Fatalf("no gold for %s", tr.Item)
		}
		_, body, _ := get(t, ts.Client(), ts.URL+"/run/run_1/gen/2/item?id="+tr.Item)
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(g) + `\b`).MatchString(body) {
			t.Errorf("item %s (answered %q, %s) shows its gold %q", tr.Item, tr.Answer, tr.Status, g)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no wrong item to check")
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ id, event, data string }

func readSSE(t *testing.T, r *bufio.Reader) sseEvent {
	t.Helper()
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if ev.event != "" {
				return ev
			}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// TestEventStream follows a run's events.jsonl: the events from ?from=,
// then an appended one, and resumes after Last-Event-ID.
func TestEventStream(t *testing.T) {
	runs := t.TempDir()
	copyDir(t, filepath.Join(fixtureRuns, "run_1"), filepath.Join(runs, "run_1"))
	evPath := filepath.Join(runs, "run_1", "events.jsonl")
	all := events(t, filepath.Join(runs, "run_1"))
	ts, _ := serve(t, runs, "")

	open := func(from string, hdr ...string) (*bufio.Reader, func()) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/run/run_1/events"+from, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		return bufio.NewReader(resp.Body), func() { resp.Body.Close() }
	}
	r, done := open(fmt.Sprintf("?from=%d", len(all)-2))
	for _, want := range all[len(all)-2:] {
		ev := readSSE(t, r)
		var got runstore.Event
		if err := json.Unmarshal([]byte(ev.data), &got); err != nil || ev.event != "event" || got.Seq != want.Seq || got.Type != want.Type || ev.id != fmt.Sprint(want.Seq) {
			t.Fatalf("got %+v (%v), want seq %d %s", ev, err, want.Seq, want.Type)
		}
	}
	// A line appended later arrives; a torn half line does not, until done.
	f, err := os.OpenFile(evPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ext := fmt.Sprintf(`{"v":1,"seq":%d,"type":"run_extended","max_gen":5}`, len(all))
	if _, err := f.WriteString(ext[:20]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := f.WriteString(ext[20:] + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ev := readSSE(t, r)
	if ev.id != fmt.Sprint(len(all)) || !strings.Contains(ev.data, `"run_extended"`) {
		t.Fatalf("appended event: %+v", ev)
	}
	done()
	// A reconnect with Last-Event-ID gets what came after it.
	r, done = open("", "Last-Event-ID", fmt.Sprint(len(all)-1))
	defer done()
	if ev := readSSE(t, r); ev.id != fmt.Sprint(len(all)) {
		t.Fatalf("after Last-Event-ID: %+v", ev)
	}
	// An idle stream sends heartbeats (comments) rather than nothing.
	line, err := r.ReadString('\n')
	for err == nil && !strings.HasPrefix(line, ": ping") {
		line, err = r.ReadString('\n')
	}
	if err != nil {
		t.Fatalf("no heartbeat: %v", err)
	}
}

// TestListStreamChanges: a new run in the folder makes the list stream
// send a change.
func TestListStreamChanges(t *testing.T) {
	runs := t.TempDir()
	ts, _ := serve(t, runs, "")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/events", nil)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	time.Sleep(60 * time.Millisecond)
	copyDir(t, filepath.Join(fixtureRuns, "run_1"), filepath.Join(runs, "run_9"))
	if ev := readSSE(t, r); ev.event != "change" {
		t.Fatalf("event %+v", ev)
	}
}
