package profile

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/llm"
)

// siaLoader reads testdata/sia, laid out as SIA's repository lays out a
// user's folders: providers/<id>.json and profiles/<id>.json (both roles in
// one flat folder).
func siaLoader(t *testing.T) *Loader {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", "sia"))
	if err != nil {
		t.Fatal(err)
	}
	return &Loader{ProfilesDir: filepath.Join(root, "profiles"), ProvidersDir: filepath.Join(root, "providers")}
}

// TestSIALayoutResolvesEveryProfile resolves each file of a SIA profiles
// folder by name, in the role its fields give it, together with its
// provider (from the providers folder or the bundled set).
func TestSIALayoutResolvesEveryProfile(t *testing.T) {
	l := siaLoader(t)
	entries, err := os.ReadDir(l.ProfilesDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 8 {
		t.Fatalf("fixture has only %d profiles", len(entries))
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(l.ProfilesDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(raw, &fields); err != nil {
				t.Fatal(err)
			}
			if _, meta := fields["agent_impl"]; meta {
				p, err := l.Meta(name)
				if err != nil {
					t.Fatal(err)
				}
				if p.ProfileID != name || p.Dir != l.ProfilesDir || !p.UsesLLM() {
					t.Errorf("meta %s = %+v", name, p)
				}
				if _, err := l.MetaProvider(p); err != nil {
					t.Errorf("provider of %s: %v", name, err)
				}
				return
			}
			p, err := l.Target(name)
			if err != nil {
				t.Fatal(err)
			}
			if p.ProfileID != name {
				t.Errorf("target file %s has id %q", name, p.ProfileID)
			}
			if _, err := l.TargetProvider(p); err != nil {
				t.Errorf("provider of %s: %v", name, err)
			}
			if _, err := p.AgentReference.Locate(p.Dir); err != nil {
				t.Errorf("agent_reference of %s: %v", name, err)
			}
		})
	}
	names, err := l.List(KindTarget)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mistral-target", "dir-target", "embedded", "default-target"} {
		if !contains(names, want) {
			t.Errorf("List(target) = %v, missing %s", names, want)
		}
	}
	provs, _ := l.List(KindProvider)
	for _, want := range []string{"localllm", "vertexish", "nebius", "gemini", "anthropic"} {
		if !contains(provs, want) {
			t.Errorf("List(providers) = %v, missing %s", provs, want)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestSIAFieldsParse checks each field SIA writes, read from the fixtures.
func TestSIAFieldsParse(t *testing.T) {
	l := siaLoader(t)
	p, err := l.Provider("localllm")
	if err != nil || p.Name == "" || p.BaseURL != "http://127.0.0.1:11434/v1" || p.APIKeyEnv != "LOCALLLM_API_KEY" || !p.Local() {
		t.Errorf("provider localllm = %+v, %v", p, err)
	}
	g, err := l.Provider("vertexish")
	if err != nil || g.ClientKind != ClientGoogle || g.BaseURL != "" {
		t.Errorf("provider vertexish = %+v, %v", g, err)
	}
	m, err := l.Meta("router-meta")
	if err != nil || m.AgentImpl != AgentOpenHands || m.ModelCanonicalName != "gpt-5-mini" || m.Name == "" {
		t.Errorf("meta router-meta = %+v, %v", m, err)
	}
	tp, err := l.Target("dir-target")
	if err != nil || tp.AgentReference.Source != "../agents/multi/" || tp.AgentReference.Entrypoint != "main.py" {
		t.Errorf("target dir-target = %+v, %v", tp, err)
	}
	// A target profile without agent_reference means "default", as in SIA.
	tp, err = l.Target("proxy-target")
	if err != nil || !tp.AgentReference.IsDefault() {
		t.Errorf("target proxy-target = %+v, %v", tp, err)
	}
}

func TestAgentReferenceForms(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "one.py"), []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pkg", "reference_target_agent.py"), []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		json     string
		wantKind string
		wantEnd  string // suffix of Entrypoint
		wantErr  string
	}{
		{`"default"`, RefDefault, "", ""},
		{`"task"`, RefDefault, "", ""},
		{`null`, RefDefault, "", ""},
		{`{"source": "./one.py"}`, RefFile, "one.py", ""},
		{`{"source": "pkg/"}`, RefDir, filepath.Join("pkg", DefaultEntrypoint), ""},
		{`{"source": "pkg", "entrypoint": "main.py"}`, "", "", `entrypoint "main.py" not found`},
		{`{"source": "./one.py", "entrypoint": "main.py"}`, "", "", "an entrypoint goes with a folder"},
		{`{"source": "./missing.py"}`, "", "", "source not found"},
		{`{"entrypoint": "main.py"}`, "", "", `needs a "source"`},
		{`"my_agent.py"`, "", "", `want "default" or an object`},
		{`42`, "", "", `want "default" or an object`},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var r AgentReference
			err := json.Unmarshal([]byte(tt.json), &r)
			var ref Reference
			if err == nil {
				ref, err = r.Locate(dir)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ref.Kind != tt.wantKind || !strings.HasSuffix(ref.Entrypoint, tt.wantEnd) {
				t.Fatalf("Locate = %+v, %v; want %s ending %q", ref, err, tt.wantKind, tt.wantEnd)
			}
		})
	}
}

// TestFolderReferenceReportsRequirements locates the fixture's folder
// reference: its entrypoint, its requirements and its other files.
func TestFolderReferenceReportsRequirements(t *testing.T) {
	l := siaLoader(t)
	tp, err := l.Target("dir-target")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := tp.AgentReference.Locate(tp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Kind != RefDir || filepath.Base(ref.Entrypoint) != "main.py" || filepath.Base(ref.Requirements) != RequirementsFile {
		t.Fatalf("ref = %+v", ref)
	}
	if strings.Join(ref.Packages, ",") != "numpy>=1.26,scikit-learn" {
		t.Errorf("packages = %q", ref.Packages)
	}
	if strings.Join(ref.Others, ",") != "helpers/prompting.py" {
		t.Errorf("others = %q", ref.Others)
	}
	// The file form resolves against the profile's folder, not the
	// working directory.
	fp, err := l.Target("file-target")
	if err != nil {
		t.Fatal(err)
	}
	fref, err := fp.AgentReference.Locate(fp.Dir)
	if err != nil || fref.Kind != RefFile || filepath.Base(fref.Entrypoint) != "seed_agent.py" {
		t.Errorf("file ref = %+v, %v", fref, err)
	}
}

func TestLookupOrder(t *testing.T) {
	sia := t.TempDir()
	user := t.TempDir()
	writeJSON(t, filepath.Join(sia, "profiles", "both.json"), TargetProfile{ProfileID: "both", Model: "from-sia", ProviderID: "openai"})
	writeJSON(t, filepath.Join(user, "profiles", "target", "both.json"), TargetProfile{ProfileID: "both", Model: "from-user", ProviderID: "openai"})
	writeJSON(t, filepath.Join(user, "profiles", "target", "useronly.json"), TargetProfile{ProfileID: "useronly", Model: "u", ProviderID: "openai"})
	writeJSON(t, filepath.Join(sia, "profiles", "openai.json"), TargetProfile{ProfileID: "openai", Model: "sia-shadows-bundled", ProviderID: "openai"})
	l := &Loader{ProfilesDir: filepath.Join(sia, "profiles"), ProvidersDir: filepath.Join(sia, "providers"), UserDir: user}
	for ref, want := range map[string]string{"both": "from-sia", "useronly": "u", "openai": "sia-shadows-bundled", "anthropic": "claude-haiku-4-5"} {
		p, err := l.Target(ref)
		if err != nil || p.Model != want {
			t.Errorf("Target(%s) = %+v, %v; want model %s", ref, p, err, want)
		}
	}
}

// TestProviderByPathWins points a profile at a provider file whose id is a
// bundled one; the file's base_url is used, never the bundled provider's.
func TestProviderByPathWins(t *testing.T) {
	var mu sync.Mutex
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"via file"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	provPath := filepath.Join(dir, "my-openai.json")
	writeJSON(t, provPath, Provider{ProviderID: "openai", Name: "mine", ClientKind: ClientOpenAI, BaseURL: srv.URL + "/v1", APIKeyEnv: "MINE_KEY"})
	// The profile names the provider by a path relative to its own folder.
	writeJSON(t, filepath.Join(dir, "t.json"), TargetProfile{ProfileID: "t", Model: "m", ProviderID: "./my-openai.json"})
	noOpenAI := &http.Client{Transport: hostGuard{t: t, allow: strings.TrimPrefix(srv.URL, "http://")}}
	m, err := Open(t.Context(), filepath.Join(dir, "t.json"), env(map[string]string{"MINE_KEY": "k1", "OPENAI_API_KEY": "bundled-key"}),
		WithLoader(&Loader{}), WithHTTPClient(noOpenAI))
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	if err != nil || c.Text() != "via file" {
		t.Fatalf("chat = %+v, %v", c, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 1 || hits[0] != "/v1/chat/completions Bearer k1" {
		t.Errorf("hits = %q", hits)
	}
}

// hostGuard fails the test for a request to any host but allow.
type hostGuard struct {
	t     *testing.T
	allow string
}

func (h hostGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != h.allow {
		h.t.Errorf("request to %s, want only %s", r.URL, h.allow)
		return nil, errors.New("host not allowed")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// googleFake answers as Google's OpenAI-compatible endpoint would, at the
// path the endpoint's docs give, and records the key.
type googleFake struct {
	mu    sync.Mutex
	paths []string
	auth  []string
}

func (g *googleFake) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	g.paths = append(g.paths, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	g.auth = append(g.auth, r.Header.Get("Authorization"))
	g.mu.Unlock()
	body := `{"id":"g","object":"chat.completion","created":1,"model":"gemini-2.5-flash","choices":[{"index":0,"message":{"role":"assistant","content":"gemini says hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestGoogleClientKind(t *testing.T) {
	l := &Loader{}
	fake := &googleFake{}
	hc := &http.Client{Transport: fake}
	tests := []struct {
		env      map[string]string
		wantAuth string
		wantErr  string
	}{
		{map[string]string{"GEMINI_API_KEY": "g1", "GOOGLE_API_KEY": "g2"}, "Bearer g1", ""},
		{map[string]string{"GOOGLE_API_KEY": "g2"}, "Bearer g2", ""},
		{nil, "", "needs GEMINI_API_KEY or GOOGLE_API_KEY"},
	}
	for _, tt := range tests {
		m, err := Open(t.Context(), "gemini", env(tt.env), WithLoader(l), WithHTTPClient(hc))
		if tt.wantErr != "" {
			if !errors.Is(err, ErrMissingKey) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("env %v: err = %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		if err != nil || c.Text() != "gemini says hi" {
			t.Fatalf("chat = %+v, %v", c, err)
		}
		fake.mu.Lock()
		last := len(fake.paths) - 1
		if fake.paths[last] != "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions" || fake.auth[last] != tt.wantAuth {
			t.Errorf("request %s with %q, want Google's endpoint with %q", fake.paths[last], fake.auth[last], tt.wantAuth)
		}
		fake.mu.Unlock()
	}
	// A SIA meta profile on a google provider: OpenHands' gemini/ prefix
	// is dropped, the provider's own api_key_env comes first.
	_, mp, err := OpenMeta(t.Context(), "gemini-meta", env(map[string]string{"VERTEXISH_KEY": "v"}), WithLoader(siaLoader(t)), WithHTTPClient(hc))
	if err != nil || mp.AgentImpl != AgentOpenHands {
		t.Fatalf("OpenMeta(gemini-meta) = %+v, %v", mp, err)
	}
}

func TestLocalProviderWithoutKey(t *testing.T) {
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "providers", "ollama.json"), Provider{ProviderID: "ollama", Name: "o", ClientKind: ClientOpenAI, BaseURL: srv.URL + "/v1", APIKeyEnv: "OLLAMA_API_KEY"})
	writeJSON(t, filepath.Join(dir, "profiles", "o.json"), TargetProfile{ProfileID: "o", Model: "qwen3:8b", ProviderID: "ollama"})
	var notes []string
	l := &Loader{ProfilesDir: filepath.Join(dir, "profiles"), ProvidersDir: filepath.Join(dir, "providers")}
	m, err := Open(t.Context(), "o", env(nil), WithLoader(l), WithNotify(func(s string) { notes = append(notes, s) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	if len(auth) != 1 || auth[0] != "" {
		t.Errorf("auth = %q, want no key sent", auth)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "OLLAMA_API_KEY is not set") {
		t.Errorf("notes = %q", notes)
	}
	// The same provider on a remote host fails before any request.
	remote := Provider{ProviderID: "r", ClientKind: ClientOpenAI, BaseURL: "https://api.example.test/v1", APIKeyEnv: "R_KEY"}
	if _, err := NewModel(t.Context(), &remote, "m", env(nil)); !errors.Is(err, ErrMissingKey) {
		t.Errorf("remote without key: %v", err)
	}
}

func TestModelFor(t *testing.T) {
	anth := &Provider{ClientKind: ClientAnthropic}
	native := &Provider{ClientKind: ClientOpenAI}
	router := &Provider{ClientKind: ClientOpenAI, BaseURL: "https://openrouter.ai/api/v1"}
	google := &Provider{ClientKind: ClientGoogle}
	tests := []struct {
		impl  string
		p     *Provider
		model string
		want  string
	}{
		{AgentClaude, anth, "haiku", "claude-haiku-4-5-20251001"},
		{AgentClaude, anth, "sonnet", "claude-sonnet-4-5-20250929"},
		{"", anth, "opus", "claude-opus-4-5-20251101"},
		{AgentOpenHands, anth, "anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"},
		{AgentOpenHands, google, "gemini/gemini-2.5-pro", "gemini-2.5-pro"},
		{AgentOpenHands, native, "openai/gpt-4", "gpt-4"},
		{AgentOpenHands, router, "anthropic/claude-haiku-4.5", "anthropic/claude-haiku-4.5"},
		{AgentOpenHands, router, "openai/gpt-oss-120b", "openai/gpt-oss-120b"},
		{AgentPydanticAI, native, "openai:gpt-4o", "gpt-4o"},
		{AgentPydanticAI, google, "google-gla:gemini-2.5-pro", "gemini-2.5-pro"},
		{AgentPydanticAI, router, "qwen3-coder:30b", "qwen3-coder:30b"},
		{AgentPydanticAI, native, "gpt-4o", "gpt-4o"},
		{"", router, "haiku", "haiku"},
	}
	for _, tt := range tests {
		if got := ModelFor(tt.impl, tt.p, tt.model); got != tt.want {
			t.Errorf("ModelFor(%s, %s %s, %q) = %q, want %q", tt.impl, tt.p.ClientKind, tt.p.BaseURL, tt.model, got, tt.want)
		}
	}
}

func TestMetaAgentImpls(t *testing.T) {
	dir := t.TempDir()
	for _, impl := range []string{AgentClaude, AgentOpenHands, AgentPydanticAI, AgentLLM} {
		path := filepath.Join(dir, impl+".json")
		writeJSON(t, path, MetaProfile{ProfileID: "m", Name: "m", AgentImpl: impl, Model: "x", ProviderID: "openai"})
		p, err := (&Loader{}).Meta(path)
		if err != nil || !p.UsesLLM() {
			t.Errorf("agent_impl %s: %+v, %v", impl, p, err)
		}
	}
	path := filepath.Join(dir, "bogus.json")
	writeJSON(t, path, MetaProfile{ProfileID: "m", AgentImpl: "bogus", Model: "x", ProviderID: "openai"})
	if _, err := (&Loader{}).Meta(path); err == nil || !strings.Contains(err.Error(), `agent_impl "bogus"`) {
		t.Errorf("bogus agent_impl: %v", err)
	}
}
