package openai

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

	sdk "github.com/openai/openai-go/v3"

	"github.com/sia-agent/sia/llm"
)

// fakeServer answers /chat/completions from a script of (status, header,
// body) replies and records every request body.
type fakeServer struct {
	t       *testing.T
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	replies []reply
}

type reply struct {
	status int
	header map[string]string
	body   string
	delay  time.Duration
}

func newFake(t *testing.T, replies ...reply) (*fakeServer, *httptest.Server) {
	t.Helper()
	f := &fakeServer{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
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
	cfg.BaseURL = url + "/v1"
	m, err := NewModel(t.Context(), "test-model", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ptr[T any](v T) *T { return &v }

func TestRequestWireFormat(t *testing.T) {
	conversation := []llm.Message{
		{Role: llm.RoleSystem, Content: "be brief"},
		{Role: llm.RoleUser, Content: "read task.md"},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "read_file", Arguments: json.RawMessage(`{"path":"task.md"}`)}}},
		{Role: llm.RoleTool, ToolCallID: "call_1", Content: "# Task"},
	}
	tool := llm.Tool{Name: "read_file", Description: "read a file", Parameters: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}`)}
	tests := []struct {
		name   string
		cfg    Config
		req    llm.Request
		want   map[string]any // top-level fields that must be present with these values
		absent []string
	}{
		{
			name:   "plain",
			req:    llm.Request{Messages: conversation[:2], MaxTokens: 64},
			want:   map[string]any{"model": "test-model", "max_tokens": 64.0},
			absent: []string{"logprobs", "n", "return_token_ids", "return_tokens_as_token_ids", "max_completion_tokens", "tools"},
		},
		{
			name: "sampling and tools",
			req: llm.Request{Model: "other", Messages: conversation, Tools: []llm.Tool{tool}, N: 4,
				Temperature: ptr(0.7), TopP: ptr(0.9), Stop: []string{"\n\n", "END"}, Seed: ptr(int64(42)), Logprobs: true},
			want: map[string]any{"model": "other", "n": 4.0, "temperature": 0.7, "top_p": 0.9, "seed": 42.0,
				"logprobs": true, "stop": []any{"\n\n", "END"}},
			absent: []string{"return_token_ids"},
		},
		{
			name: "vllm extras with logprobs",
			cfg:  Config{VLLM: true},
			req:  llm.Request{Messages: conversation[:2], Logprobs: true, Stop: []string{"x"}},
			want: map[string]any{"logprobs": true, "return_token_ids": true, "return_tokens_as_token_ids": true, "stop": "x"},
		},
		{
			name:   "vllm extras without logprobs",
			cfg:    Config{VLLM: true},
			req:    llm.Request{Messages: conversation[:2]},
			want:   map[string]any{"return_token_ids": true},
			absent: []string{"return_tokens_as_token_ids", "logprobs"},
		},
		{
			name:   "max_completion_tokens",
			cfg:    Config{MaxCompletionTokensField: ptr(true)},
			req:    llm.Request{Messages: conversation[:2], MaxTokens: 10},
			want:   map[string]any{"max_completion_tokens": 10.0},
			absent: []string{"max_tokens"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, reply{body: fixture(t, "text.json")})
			m := newTestModel(t, srv.URL, tt.cfg)
			if _, err := m.Chat(t.Context(), tt.req); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(f.bodies[0], &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s present (%v), want absent", k, got[k])
				}
			}
			// The body must decode into the SDK's own request type.
			var typed sdk.ChatCompletionNewParams
			if err := json.Unmarshal(f.bodies[0], &typed); err != nil {
				t.Fatalf("body does not decode as ChatCompletionNewParams: %v", err)
			}
			if len(typed.Messages) != len(tt.req.Messages) {
				t.Errorf("%d messages on the wire, want %d", len(typed.Messages), len(tt.req.Messages))
			}
		})
	}
}

func TestToolMessagesOnTheWire(t *testing.T) {
	f, srv := newFake(t, reply{body: fixture(t, "text.json")})
	m := newTestModel(t, srv.URL, Config{})
	req := llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "go"},
			{Role: llm.RoleAssistant, Content: "looking", ToolCalls: []llm.ToolCall{{ID: "call_9", Name: "list_dir", Arguments: json.RawMessage(`{"path":"."}`)}}},
			{Role: llm.RoleTool, ToolCallID: "call_9", Content: "a.txt"},
		},
		Tools: []llm.Tool{{Name: "list_dir", Description: "list", Parameters: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`)}},
	}
	if _, err := m.Chat(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	var wire struct {
		Messages []struct {
			Role       string `json:"role"`
			Content    any    `json:"content"`
			ToolCallID string `json:"tool_call_id"`
			ToolCalls  []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"messages"`
		Tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name        string         `json:"name"`
				Description string         `json:"description"`
				Parameters  map[string]any `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(f.bodies[0], &wire); err != nil {
		t.Fatal(err)
	}
	a := wire.Messages[1]
	if a.Role != "assistant" || a.Content != "looking" || len(a.ToolCalls) != 1 {
		t.Fatalf("assistant message = %+v", a)
	}
	if tc := a.ToolCalls[0]; tc.ID != "call_9" || tc.Type != "function" || tc.Function.Name != "list_dir" || tc.Function.Arguments != `{"path":"."}` {
		t.Errorf("tool call = %+v", tc)
	}
	if tm := wire.Messages[2]; tm.Role != "tool" || tm.ToolCallID != "call_9" || tm.Content != "a.txt" {
		t.Errorf("tool message = %+v", tm)
	}
	if len(wire.Tools) != 1 || wire.Tools[0].Type != "function" || wire.Tools[0].Function.Name != "list_dir" ||
		wire.Tools[0].Function.Parameters["type"] != "object" {
		t.Errorf("tools = %+v", wire.Tools)
	}
}

func TestResponseMapping(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    llm.Completion
	}{
		{
			name: "text", fixture: "text.json",
			want: llm.Completion{Model: "gpt-4.1-mini-2025-04-14",
				Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: "Paris."}, FinishReason: "stop"}},
				Usage:   llm.Usage{PromptTokens: 21, CompletionTokens: 3}},
		},
		{
			name: "tool calls", fixture: "tool_calls.json",
			want: llm.Completion{Model: "gpt-4.1",
				Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", ToolCalls: []llm.ToolCall{
					{ID: "call_1", Name: "read_file", Arguments: json.RawMessage(`{"path":"task.md"}`)},
					{ID: "call_2", Name: "list_dir", Arguments: json.RawMessage(`{"path":"."}`)},
				}}, FinishReason: "tool_calls"}},
				Usage: llm.Usage{PromptTokens: 80, CompletionTokens: 40}},
		},
		{
			name: "openai logprobs without ids", fixture: "openai_logprobs.json",
			want: llm.Completion{Model: "gpt-4.1-nano",
				Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: "Yes"}, FinishReason: "stop", Logprobs: []float64{-0.0125}}},
				Usage:   llm.Usage{PromptTokens: 9, CompletionTokens: 1}},
		},
		{
			name: "vllm token ids", fixture: "vllm_token_ids.json",
			want: llm.Completion{Model: "openai/gpt-oss-120b",
				PromptTokenIDs: []int{200006, 1428, 200008, 17, 10},
				Choices: []llm.Choice{
					{Message: llm.Message{Role: "assistant", Content: "4"}, FinishReason: "stop", TokenIDs: []int{19, 200002}, Logprobs: []float64{-0.25, -0.001}},
					{Message: llm.Message{Role: "assistant", Content: "5"}, FinishReason: "length", TokenIDs: []int{20}, Logprobs: []float64{-1.5}},
				},
				Usage: llm.Usage{PromptTokens: 5, CompletionTokens: 3}},
		},
		{
			name: "openrouter cost", fixture: "openrouter_cost.json",
			want: llm.Completion{Model: "openai/gpt-oss-120b",
				Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: "ok"}, FinishReason: "stop"}},
				Usage:   llm.Usage{PromptTokens: 12, CompletionTokens: 2, CostUSD: 0.0000031}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFake(t, reply{body: fixture(t, tt.fixture)})
			m := newTestModel(t, srv.URL, Config{})
			got, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}})
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

func TestParseTokenID(t *testing.T) {
	tests := []struct {
		in string
		id int
		ok bool
	}{
		{"token_id:0", 0, true},
		{"token_id:200002", 200002, true},
		{"token_id:-1", 0, false},
		{"token_id:", 0, false},
		{"token_id:12a", 0, false},
		{"hello", 0, false},
	}
	for _, tt := range tests {
		id, ok := parseTokenID(tt.in)
		if id != tt.id || ok != tt.ok {
			t.Errorf("parseTokenID(%q) = %d, %v; want %d, %v", tt.in, id, ok, tt.id, tt.ok)
		}
	}
}

func TestMixedTokenSpellingsGiveNoIDs(t *testing.T) {
	body := `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ab"},"logprobs":{"content":[{"token":"token_id:5","logprob":-1,"bytes":null,"top_logprobs":[]},{"token":"b","logprob":-2,"bytes":null,"top_logprobs":[]}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`
	_, srv := newFake(t, reply{body: body})
	m := newTestModel(t, srv.URL, Config{})
	got, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}})
	if err != nil {
		t.Fatal(err)
	}
	if ids := got.Choices[0].TokenIDs; ids != nil {
		t.Errorf("TokenIDs = %v, want none when not every token is an id", ids)
	}
	if lp := got.Choices[0].Logprobs; !reflect.DeepEqual(lp, []float64{-1, -2}) {
		t.Errorf("Logprobs = %v", lp)
	}
}

func TestRetriesAndErrors(t *testing.T) {
	ok := reply{body: fixture(t, "text.json")}
	rateLimited := reply{status: 429, header: map[string]string{"Retry-After": "0"},
		body: `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`}
	tests := []struct {
		name      string
		cfg       Config
		replies   []reply
		wantCalls int
		wantErr   string // substring; "" = success
		status    int
	}{
		{name: "429 with retry-after then success", replies: []reply{rateLimited, ok}, wantCalls: 2},
		{name: "500 then success", replies: []reply{{status: 500, header: map[string]string{"Retry-After-Ms": "5"}, body: `{"error":{"message":"boom","type":"server_error"}}`}, ok}, wantCalls: 2},
		{name: "503 without headers backs off then succeeds", replies: []reply{{status: 503, body: `{"error":{"message":"overloaded","type":"server_error"}}`}, ok}, wantCalls: 2},
		{name: "retries exhausted", cfg: Config{MaxRetries: 1}, replies: []reply{rateLimited, rateLimited, ok}, wantCalls: 2,
			wantErr: "openai api: 429 Too Many Requests (requests): Rate limit reached", status: 429},
		{name: "400 is not retried", replies: []reply{{status: 400, body: `{"error":{"message":"bad\nthing","type":"invalid_request_error","param":"messages","code":null}}`}, ok}, wantCalls: 1,
			wantErr: "openai api: 400 Bad Request (invalid_request_error): bad thing", status: 400},
		{name: "vllm flat error with int code", replies: []reply{{status: 404, body: `{"object":"error","message":"The model ` + "`x`" + ` does not exist.","type":"NotFoundError","param":null,"code":404}`}}, wantCalls: 1,
			wantErr: "openai api: 404 Not Found (NotFoundError): The model `x` does not exist.", status: 404},
		{name: "string error body", replies: []reply{{status: 401, body: `{"error":"unauthorized"}`}}, wantCalls: 1,
			wantErr: "openai api: 401 Unauthorized: unauthorized", status: 401},
		{name: "retries disabled", cfg: Config{MaxRetries: -1}, replies: []reply{rateLimited, ok}, wantCalls: 1, wantErr: "429", status: 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, tt.replies...)
			m := newTestModel(t, srv.URL, tt.cfg)
			c, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}})
			if got := f.calls(); got != tt.wantCalls {
				t.Errorf("server saw %d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil || c.Text() != "Paris." {
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
				t.Errorf("errors.As APIError = %v (%+v), want status %d", err, ae, tt.status)
			}
		})
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	f, srv := newFake(t, reply{delay: 2 * time.Second, body: fixture(t, "text.json")}, reply{body: fixture(t, "text.json")})
	m := newTestModel(t, srv.URL, Config{Timeout: 100 * time.Millisecond, MaxRetries: 1})
	start := time.Now()
	c, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}})
	if err != nil {
		t.Fatalf("a timed-out attempt should be retried: %v", err)
	}
	if c.Text() != "Paris." || f.calls() != 2 {
		t.Errorf("text %q after %d calls", c.Text(), f.calls())
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("took %s; the slow attempt was not cut at the timeout", d)
	}
}

func TestCancelledContext(t *testing.T) {
	_, srv := newFake(t, reply{delay: 5 * time.Second, body: "{}"})
	m := newTestModel(t, srv.URL, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := m.Chat(ctx, llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestAuthHeaderAndEnvironment(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-environment")
	tests := []struct {
		name string
		key  string
		want string
	}{
		{"explicit key", "sk-test", "Bearer sk-test"},
		{"no key ignores the environment", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, reply{body: fixture(t, "text.json")})
			m := newTestModel(t, srv.URL, Config{APIKey: tt.key, Headers: map[string]string{"X-Title": "sia"}})
			if _, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}}); err != nil {
				t.Fatal(err)
			}
			if got := f.headers[0].Get("Authorization"); got != tt.want {
				t.Errorf("Authorization = %q, want %q", got, tt.want)
			}
			if got := f.headers[0].Get("X-Title"); got != "sia" {
				t.Errorf("X-Title = %q", got)
			}
		})
	}
}

func TestNewModelValidation(t *testing.T) {
	tests := []struct {
		name  string
		model string
		cfg   *Config
		want  string
	}{
		{"empty model", "", nil, "model name is empty"},
		{"bad scheme", "m", &Config{BaseURL: "ftp://x/v1"}, "scheme must be http or https"},
		{"no host", "m", &Config{BaseURL: "http:///v1"}, "no host"},
		{"negative timeout", "m", &Config{BaseURL: "http://x/v1", Timeout: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewModel(t.Context(), tt.model, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	m, err := NewModel(t.Context(), "m", nil)
	if err != nil || m.cfg.BaseURL != DefaultBaseURL || !*m.cfg.MaxCompletionTokensField {
		t.Fatalf("zero config: %v %+v", err, m)
	}
}

func TestUnknownRoleIsAnError(t *testing.T) {
	_, srv := newFake(t)
	m := newTestModel(t, srv.URL, Config{})
	_, err := m.Chat(t.Context(), llm.Request{Messages: []llm.Message{{Role: "wizard", Content: "q"}}})
	if err == nil || !strings.Contains(err.Error(), `unknown role "wizard"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestForwardsUnmodelledFieldsAndParts: fields llm.Request does not model
// and content parts reach the server as the caller wrote them, and
// top_logprobs come back.
func TestForwardsUnmodelledFieldsAndParts(t *testing.T) {
	body := `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{\"a\":1}"},` +
		`"logprobs":{"content":[{"token":"{\"","logprob":-0.1,"bytes":[123,34],"top_logprobs":[{"token":"{\"","logprob":-0.1,"bytes":[123,34]},{"token":"[","logprob":-2.5,"bytes":[91]}]}]},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`
	f, srv := newFake(t, reply{body: body})
	m := newTestModel(t, srv.URL, Config{})
	parts := json.RawMessage(`[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]`)
	extra := map[string]json.RawMessage{
		"response_format":     json.RawMessage(`{"type":"json_object"}`),
		"tool_choice":         json.RawMessage(`"none"`),
		"presence_penalty":    json.RawMessage(`0.5`),
		"frequency_penalty":   json.RawMessage(`-0.25`),
		"logit_bias":          json.RawMessage(`{"50256":-100}`),
		"parallel_tool_calls": json.RawMessage(`false`),
	}
	c, err := m.Chat(t.Context(), llm.Request{
		Messages:    []llm.Message{{Role: llm.RoleUser, Content: "what is this?", Parts: parts}},
		Logprobs:    true,
		TopLogprobs: 2,
		Extra:       extra,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(f.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		if !jsonEqual(got[k], v) {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	if string(got["top_logprobs"]) != "2" || string(got["logprobs"]) != "true" {
		t.Errorf("top_logprobs %s logprobs %s", got["top_logprobs"], got["logprobs"])
	}
	var msgs []map[string]json.RawMessage
	if err := json.Unmarshal(got["messages"], &msgs); err != nil || len(msgs) != 1 {
		t.Fatalf("messages %s: %v", got["messages"], err)
	}
	if !jsonEqual(msgs[0]["content"], parts) || string(msgs[0]["role"]) != `"user"` {
		t.Errorf("message %v, want the parts as sent", msgs[0])
	}
	// The body still decodes as the SDK's request type.
	var typed sdk.ChatCompletionNewParams
	if err := json.Unmarshal(f.bodies[0], &typed); err != nil {
		t.Fatalf("body does not decode as ChatCompletionNewParams: %v", err)
	}
	top := c.Choices[0].TopLogprobs
	if len(top) != 1 || len(top[0]) != 2 || top[0][1].Token != "[" || top[0][1].Logprob != -2.5 || len(top[0][1].Bytes) != 1 {
		t.Errorf("top logprobs %+v", top)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
