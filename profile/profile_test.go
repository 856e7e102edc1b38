package profile

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/llm"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestBundledFilesLoad(t *testing.T) {
	l := &Loader{}
	for _, kind := range []string{KindProvider, KindMeta, KindTarget} {
		names, err := l.List(kind)
		if err != nil {
			t.Fatal(err)
		}
		if len(names) < 5 {
			t.Errorf("%s: only %v bundled", kind, names)
		}
		for _, n := range names {
			var err error
			switch kind {
			case KindProvider:
				var p *Provider
				p, err = l.Provider(n)
				if err == nil && p.ProviderID != n {
					t.Errorf("provider file %s has id %q", n, p.ProviderID)
				}
			case KindMeta:
				var p *MetaProfile
				p, err = l.Meta(n)
				if err == nil && p.ProfileID != n {
					t.Errorf("meta file %s has id %q", n, p.ProfileID)
				}
				if err == nil && p.AgentImpl != AgentBuiltin {
					_, err = l.Provider(p.ProviderID)
				}
			case KindTarget:
				var p *TargetProfile
				p, err = l.Target(n)
				if err == nil && p.ProfileID != n {
					t.Errorf("target file %s has id %q", n, p.ProfileID)
				}
				if err == nil {
					_, err = l.Provider(p.ProviderID)
				}
			}
			if err != nil {
				t.Errorf("%s %s: %v", kind, n, err)
			}
		}
	}
	for _, want := range []string{"anthropic", "openai", "openrouter", "ollama", "vllm", "embedded"} {
		if _, err := l.Target(want); err != nil {
			t.Errorf("bundled target %q: %v", want, err)
		}
	}
	if _, err := l.Meta(DefaultMeta); err != nil {
		t.Error(err)
	}
	p, err := l.Provider("ollama")
	if err != nil || p.BaseURL != "http://localhost:11434/v1" || p.APIKeyEnv != "" {
		t.Errorf("ollama provider = %+v, %v", p, err)
	}
	p, err = l.Provider("vllm")
	if err != nil || p.BaseURL != "http://localhost:8000/v1" || !p.VLLM {
		t.Errorf("vllm provider = %+v, %v", p, err)
	}
}

func TestUserDir(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios" || runtime.GOOS == "plan9" {
		t.Skip("table covers the XDG rules")
	}
	tests := []struct {
		env  map[string]string
		want string
		err  bool
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/sia", false},
		{map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/home/u"}, "/home/u/.config/sia", false},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.config/sia", false},
		{map[string]string{}, "", true},
	}
	for _, tt := range tests {
		got, err := UserDir(env(tt.env))
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("UserDir(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolution(t *testing.T) {
	user := t.TempDir()
	// A user file shadows the bundled one of the same name.
	writeJSON(t, filepath.Join(user, "profiles", "target", "openai.json"),
		TargetProfile{ProfileID: "openai", Model: "gpt-4.1-nano", ProviderID: "openai"})
	// A file with extra fields, as SIA may write.
	if err := os.WriteFile(filepath.Join(user, "profiles", "target", "extra.json"),
		[]byte(`{"profile_id":"extra","name":"x","model":"m","provider_id":"vllm","agent_reference":"default","notes":"ignored"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "mine.json")
	writeJSON(t, elsewhere, TargetProfile{ProfileID: "mine", Model: "qwen", ProviderID: "ollama"})
	l := &Loader{UserDir: user}

	tests := []struct {
		ref       string
		wantModel string
		wantErr   string
	}{
		{"openai", "gpt-4.1-nano", ""},
		{"anthropic", "claude-haiku-4-5", ""}, // bundled, not shadowed
		{"extra", "m", ""},
		{elsewhere, "qwen", ""},
		{"nope", "", "not found (known: anthropic, default-target, embedded, extra, gemini, kimi-nebius-target, ollama, openai, openrouter, openrouter-target, vllm; or pass a path to a .json file)"},
		{"../escape", "", "no such file"}, // a path, read as such
		{"bad name", "", "use letters, digits"},
		{"", "", "empty target profile reference"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			p, err := l.Target(tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || p.Model != tt.wantModel {
				t.Fatalf("Target(%q) = %+v, %v; want model %q", tt.ref, p, err, tt.wantModel)
			}
		})
	}
	if _, err := l.Target("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown name: %v is not ErrNotFound", err)
	}
}

func TestValidation(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		kind string
		doc  string
		want string
	}{
		{"bad client kind", KindProvider, `{"provider_id":"p","client_kind":"grpc"}`, `client_kind "grpc"`},
		{"provider without id", KindProvider, `{"client_kind":"openai"}`, "provider_id is empty"},
		{"target without model", KindTarget, `{"profile_id":"t","provider_id":"openai"}`, "model is empty"},
		{"target without provider", KindTarget, `{"profile_id":"t","model":"m"}`, "provider_id is empty"},
		{"meta without impl", KindMeta, `{"profile_id":"m","model":"x","provider_id":"openai"}`, "agent_impl is empty"},
		{"not json", KindTarget, `{`, "unexpected end"},
	}
	l := &Loader{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			switch tt.kind {
			case KindProvider:
				_, err = l.Provider(path)
			case KindMeta:
				_, err = l.Meta(path)
			default:
				_, err = l.Target(path)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want %q naming the file", err, tt.want)
			}
		})
	}
}

// failTransport fails the test if any request is made.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", r.URL)
	return nil, errors.New("no requests allowed")
}

func TestOpenMissingKeyFailsBeforeAnyRequest(t *testing.T) {
	noNet := &http.Client{Transport: failTransport{t}}
	l := &Loader{}
	tests := []struct{ ref, variable string }{
		{"anthropic", "ANTHROPIC_API_KEY"},
		{"openai", "OPENAI_API_KEY"},
		{"openrouter", "OPENROUTER_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			_, err := Open(t.Context(), tt.ref, env(nil), WithLoader(l), WithHTTPClient(noNet))
			if !errors.Is(err, ErrMissingKey) || !strings.Contains(err.Error(), tt.variable) {
				t.Fatalf("err = %v, want ErrMissingKey naming %s", err, tt.variable)
			}
			if strings.Count(err.Error(), tt.variable) != 1 || strings.Contains(err.Error(), "\n") {
				t.Errorf("want one line naming the variable once: %q", err)
			}
		})
	}
	// Local servers need no key.
	for _, ref := range []string{"ollama", "vllm"} {
		if m, err := Open(t.Context(), ref, env(nil), WithLoader(l), WithHTTPClient(noNet)); err != nil || m == nil {
			t.Errorf("Open(%s) = %v, %v", ref, m, err)
		}
	}
	_, _, err := OpenMeta(t.Context(), "anthropic", env(nil), WithLoader(l), WithHTTPClient(noNet))
	if !errors.Is(err, ErrMissingKey) || !strings.Contains(err.Error(), "ANTHROPIC_API_KEY") {
		t.Errorf("OpenMeta: err = %v", err)
	}
}

func TestOpenEmbeddedAndBuiltin(t *testing.T) {
	l := &Loader{}
	if _, err := Open(t.Context(), DefaultTarget, env(nil), WithLoader(l)); !errors.Is(err, ErrEmbedded) {
		t.Errorf("Open(embedded) err = %v, want ErrEmbedded", err)
	}
	m, mp, err := OpenMeta(t.Context(), DefaultMeta, env(nil), WithLoader(l))
	if err != nil || m != nil || mp.AgentImpl != AgentBuiltin {
		t.Errorf("OpenMeta(builtin) = %v, %+v, %v", m, mp, err)
	}
}

// TestOpenTalksToTheProvider opens user profiles pointing at fake servers
// and checks that each backend sends its key and, for vLLM, the extras.
func TestOpenTalksToTheProvider(t *testing.T) {
	var mu sync.Mutex
	var seen []map[string]any
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		seen = append(seen, m)
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/chat/completions":
			io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"served","choices":[{"index":0,"message":{"role":"assistant","content":"from openai"},"finish_reason":"stop","token_ids":[7]}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"prompt_token_ids":[1]}`)
		case "/v1/messages":
			io.WriteString(w, `{"id":"m","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"from anthropic"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	user := t.TempDir()
	writeJSON(t, filepath.Join(user, "profiles", "providers", "fakevllm.json"),
		Provider{ProviderID: "fakevllm", ClientKind: ClientOpenAI, BaseURL: srv.URL + "/v1", VLLM: true})
	writeJSON(t, filepath.Join(user, "profiles", "providers", "fakeclaude.json"),
		Provider{ProviderID: "fakeclaude", ClientKind: ClientAnthropic, BaseURL: srv.URL, APIKeyEnv: "FAKE_KEY"})
	writeJSON(t, filepath.Join(user, "profiles", "target", "t.json"),
		TargetProfile{ProfileID: "t", Model: "served", ProviderID: "fakevllm"})
	writeJSON(t, filepath.Join(user, "profiles", "meta", "m.json"),
		MetaProfile{ProfileID: "m", AgentImpl: AgentLLM, Model: "claude-x", ProviderID: "fakeclaude"})
	l := &Loader{UserDir: user}
	getenv := env(map[string]string{"FAKE_KEY": "k-123"})

	target, err := Open(t.Context(), "t", getenv, WithLoader(l))
	if err != nil {
		t.Fatal(err)
	}
	c, err := target.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "hi"}}, Logprobs: true})
	if err != nil || c.Text() != "from openai" || len(c.Choices[0].TokenIDs) != 1 || len(c.PromptTokenIDs) != 1 {
		t.Fatalf("target chat = %+v, %v", c, err)
	}
	meta, mp, err := OpenMeta(t.Context(), "m", getenv, WithLoader(l))
	if err != nil || mp.AgentImpl != AgentLLM {
		t.Fatal(err)
	}
	c, err = meta.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "hi"}}})
	if err != nil || c.Text() != "from anthropic" {
		t.Fatalf("meta chat = %+v, %v", c, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[0]["return_token_ids"] != true || seen[0]["return_tokens_as_token_ids"] != true {
		t.Errorf("vllm provider did not ask for token ids: %v", seen[0])
	}
	if auth[0] != "" || auth[1] != "Bearer k-123" {
		t.Errorf("auth headers = %q", auth)
	}
}
