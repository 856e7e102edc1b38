package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/sia-agent/sia/llm"
)

type reply struct {
	status int
	header map[string]string
	body   string
	delay  time.Duration
}

type fakeServer struct {
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	replies []reply
}

func newFake(t *testing.T, replies ...reply) (*fakeServer, *httptest.Server) {
	t.Helper()
	f := &fakeServer{replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	n := len(f.bodies)
	f.bodies = append(f.bodies, body)
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	if n >= len(f.replies) {
		http.Error(w, "script exhausted", http.StatusTeapot)
		return
	}
	rep := f.replies[n]
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fakeServer) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newTestModel(t *testing.T, url string, cfg Config) *Model {
	t.Helper()
	cfg.BaseURL = url
	if cfg.APIKey == "" {
		cfg.APIKey = "sk-ant-test"
	}
	m, err := NewModel(t.Context(), "claude-sonnet-4-5", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func user(s string) llm.Message { return llm.Message{Role: llm.RoleUser, Content: s} }

func TestRequestWireFormat(t *testing.T) {
	f, srv := newFake(t, reply{body: fixture(t, "text.json")})
	m := newTestModel(t, srv.URL, Config{})
	req := llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You write harnesses."},
			user("read the task"),
			{Role: llm.RoleAssistant, Content: "Reading.", ToolCalls: []llm.ToolCall{
				{ID: "toolu_1", Name: "read_file", Arguments: json.RawMessage(`{"path":"task.md"}`)},
				{ID: "toolu_2", Name: "list_dir", Arguments: nil},
			}},
			{Role: llm.RoleTool, ToolCallID: "toolu_1", Content: "# Task"},
			{Role: llm.RoleTool, ToolCallID: "toolu_2", Content: "task.md"},
			user("now write it"),
		},
		Tools: []llm.Tool{{Name: "read_file", Description: "Read a file.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"],"additionalProperties":false}`)}},
		MaxTokens:   512,
		Stop:        []string{"</answer>"},
		Temperature: new(float64),
	}
	if _, err := m.Chat(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	// anthropic-sdk-go v2's WithAPIKey sends the key as a Bearer token.
	if got := f.headers[0].Get("Authorization"); got != "Bearer sk-ant-test" {
		t.Errorf("Authorization = %q", got)
	}
	if f.headers[0].Get("Anthropic-Version") == "" {
		t.Error("no anthropic-version header")
	}
	// The body must decode into the SDK's own request type.
	var typed sdk.MessageNewParams
	if err := json.Unmarshal(f.bodies[0], &typed); err != nil {
		t.Fatalf("body does not decode as MessageNewParams: %v", err)
	}
	var wire struct {
		Model         string   `json:"model"`
		MaxTokens     int      `json:"max_tokens"`
		StopSequences []string `json:"stop_sequences"`
		System        []struct {
			Type, Text string
		} `json:"system"`
		Temperature *float64 `json:"temperature"`
		Messages    []struct {
			Role    string `json:"role"`
			Content []struct {
				Type      string          `json:"type"`
				Text      string          `json:"text"`
				ID        string          `json:"id"`
				Name      string          `json:"name"`
				Input     json.RawMessage `json:"input"`
				ToolUseID string          `json:"tool_use_id"`
				Content   []struct {
					Type, Text string
				} `json:"content"`
			} `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Name        string         `json:"name"`
			Description string         `json:"description"`
			InputSchema map[string]any `json:"input_schema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(f.bodies[0], &wire); err != nil {
		t.Fatal(err)
	}
	if wire.Model != "claude-sonnet-4-5" || wire.MaxTokens != 512 || !reflect.DeepEqual(wire.StopSequences, []string{"</answer>"}) {
		t.Errorf("model/max_tokens/stop = %q %d %v", wire.Model, wire.MaxTokens, wire.StopSequences)
	}
	if wire.Temperature != nil {
		t.Errorf("temperature sent (%v); the v2 API has none", *wire.Temperature)
	}
	if len(wire.System) != 1 || wire.System[0].Text != "You write harnesses." || wire.System[0].Type != "text" {
		t.Errorf("system = %+v", wire.System)
	}
	if len(wire.Messages) != 3 {
		t.Fatalf("%d messages, want 3 (user, assistant, user with both tool results and the text)", len(wire.Messages))
	}
	a := wire.Messages[1]
	if a.Role != "assistant" || len(a.Content) != 3 || a.Content[0].Type != "text" || a.Content[1].Type != "tool_use" ||
		a.Content[1].ID != "toolu_1" || a.Content[1].Name != "read_file" || string(a.Content[1].Input) != `{"path":"task.md"}` ||
		string(a.Content[2].Input) != `{}` {
		t.Errorf("assistant turn = %+v", a)
	}
	u := wire.Messages[2]
	if u.Role != "user" || len(u.Content) != 3 || u.Content[0].Type != "tool_result" || u.Content[0].ToolUseID != "toolu_1" ||
		u.Content[0].Content[0].Text != "# Task" || u.Content[1].ToolUseID != "toolu_2" || u.Content[2].Type != "text" ||
		u.Content[2].Text != "now write it" {
		t.Errorf("tool results turn = %+v", u)
	}
	if len(wire.Tools) != 1 || wire.Tools[0].Name != "read_file" || wire.Tools[0].Description != "Read a file." ||
		wire.Tools[0].InputSchema["type"] != "object" || wire.Tools[0].InputSchema["additionalProperties"] != false ||
		!reflect.DeepEqual(wire.Tools[0].InputSchema["required"], []any{"path"}) ||
		!reflect.DeepEqual(wire.Tools[0].InputSchema["properties"], map[string]any{"path": map[string]any{"type": "string"}}) {
		t.Errorf("tools = %+v", wire.Tools)
	}
}

func TestResponseMapping(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		n       int
		want    llm.Completion
	}{
		{
			name: "text", fixture: "text.json",
			want: llm.Completion{Model: "claude-sonnet-4-5-20250929",
				Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: "Hello, world"}, FinishReason: "stop"}},
				Usage:   llm.Usage{PromptTokens: 16, CompletionTokens: 6}},
		},
		{
			name: "tool use", fixture: "tool_use.json",
			want: llm.Completion{Model: "claude-sonnet-4-5-20250929",
				Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: "Let me read it.", ToolCalls: []llm.ToolCall{
					{ID: "toolu_01A", Name: "read_file", Arguments: json.RawMessage(`{"path":"task.md","offset":0}`)},
					{ID: "toolu_01B", Name: "list_dir", Arguments: json.RawMessage(`{}`)},
				}}, FinishReason: "tool_calls"}},
				Usage: llm.Usage{PromptTokens: 300, CompletionTokens: 50}},
		},
		{
			name: "max tokens, n=2", fixture: "max_tokens.json", n: 2,
			want: llm.Completion{Model: "claude-haiku-4-5",
				Choices: []llm.Choice{
					{Message: llm.Message{Role: "assistant", Content: "partial"}, FinishReason: "length"},
					{Message: llm.Message{Role: "assistant", Content: "partial"}, FinishReason: "length"},
				},
				Usage: llm.Usage{PromptTokens: 10, CompletionTokens: 32}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fixture(t, tt.fixture)
			_, srv := newFake(t, reply{body: body}, reply{body: body})
			m := newTestModel(t, srv.URL, Config{})
			got, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{user("q")}, N: tt.n})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(tt.want)
				t.Errorf("completion\n got %s\nwant %s", gb, wb)
			}
		})
	}
}

func TestRetriesAndErrors(t *testing.T) {
	ok := reply{body: fixture(t, "text.json")}
	rateLimited := reply{status: 429, header: map[string]string{"Retry-After": "0"},
		body: `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_1"}`}
	tests := []struct {
		name      string
		cfg       Config
		replies   []reply
		wantCalls int
		wantErr   string
		status    int
	}{
		{name: "429 with retry-after then success", replies: []reply{rateLimited, ok}, wantCalls: 2},
		{name: "529 overloaded then success", replies: []reply{{status: 529, header: map[string]string{"Retry-After-Ms": "5"},
			body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}, ok}, wantCalls: 2},
		{name: "500 without headers backs off then succeeds", replies: []reply{{status: 500, body: `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`}, ok}, wantCalls: 2},
		{name: "retries exhausted", cfg: Config{MaxRetries: 1}, replies: []reply{rateLimited, rateLimited, ok}, wantCalls: 2,
			wantErr: "anthropic api: 429 Too Many Requests (rate_limit_error): Number of request tokens", status: 429},
		{name: "400 is not retried", replies: []reply{{status: 400, body: `{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}`}, ok}, wantCalls: 1,
			wantErr: "anthropic api: 400 Bad Request (invalid_request_error): messages: roles must alternate", status: 400},
		{name: "401", replies: []reply{{status: 401, body: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`}}, wantCalls: 1,
			wantErr: "anthropic api: 401 Unauthorized (authentication_error): invalid x-api-key", status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, tt.replies...)
			m := newTestModel(t, srv.URL, tt.cfg)
			c, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{user("q")}})
			if got := f.calls(); got != tt.wantCalls {
				t.Errorf("server saw %d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil || c.Text() != "Hello, world" {
					t.Fatalf("Chat = %v, %v; want success", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.HTTPStatus() != tt.status {
				t.Errorf("errors.As APIError = %+v, want status %d", ae, tt.status)
			}
		})
	}
}

func TestPerAttemptTimeoutIsRetried(t *testing.T) {
	f, srv := newFake(t, reply{delay: 2 * time.Second, body: fixture(t, "text.json")}, reply{body: fixture(t, "text.json")})
	m := newTestModel(t, srv.URL, Config{Timeout: 100 * time.Millisecond, MaxRetries: 1})
	c, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{user("q")}})
	if err != nil {
		t.Fatalf("a timed-out attempt should be retried: %v", err)
	}
	if c.Text() != "Hello, world" || f.calls() != 2 {
		t.Errorf("text %q after %d calls", c.Text(), f.calls())
	}
}

func TestCancelledContext(t *testing.T) {
	_, srv := newFake(t, reply{delay: 5 * time.Second, body: "{}"})
	m := newTestModel(t, srv.URL, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := m.Chat(ctx, llm.Request{Messages: []llm.Message{user("q")}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestEnvironmentIsIgnored(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
	f, srv := newFake(t, reply{body: fixture(t, "text.json")})
	m := newTestModel(t, srv.URL, Config{APIKey: "sk-ant-explicit"})
	if _, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{user("q")}}); err != nil {
		t.Fatal(err)
	}
	if got := f.headers[0].Get("Authorization"); got != "Bearer sk-ant-explicit" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{"unknown role", llm.Request{Messages: []llm.Message{{Role: "wizard", Content: "x"}}}, `unknown role "wizard"`},
		{"tool without id", llm.Request{Messages: []llm.Message{{Role: llm.RoleTool, Content: "x"}}}, "no tool_call_id"},
		{"bad arguments", llm.Request{Messages: []llm.Message{user("q"), {Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "t", Name: "f", Arguments: json.RawMessage("{")}}}}}, "not JSON"},
		{"schema not object", llm.Request{Messages: []llm.Message{user("q")}, Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":"string"}`)}}}, `type must be "object"`},
	}
	f, srv := newFake(t)
	m := newTestModel(t, srv.URL, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Chat(t.Context(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if f.calls() != 0 {
		t.Errorf("bad input reached the server %d times", f.calls())
	}
}

func TestFinishReason(t *testing.T) {
	for in, want := range map[string]string{
		"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
		"refusal": "content_filter", "model_context_window_exceeded": "length", "something_new": "something_new",
	} {
		if got := finishReason(in); got != want {
			t.Errorf("finishReason(%q) = %q, want %q", in, got, want)
		}
	}
}
