package llmagent

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	asdk "github.com/anthropics/anthropic-sdk-go/v2"
	osdk "github.com/openai/openai-go/v3"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/anthropic"
	"github.com/sia-agent/sia/llm/openai"
)

// wireFake is an httptest server speaking one provider's real wire format.
// It replies with scripted turns and decodes every request with the SDK's
// own request type, recording the tool results it carried (call id →
// content) and the tool names offered.
type wireFake struct {
	t        *testing.T
	provider string // "anthropic" or "openai"
	turns    []*llm.Completion

	mu       sync.Mutex
	n        int
	results  []map[string]string // per request
	offered  []string            // tool names of the first request
	problems []string
}

func (f *wireFake) fail(format string, args ...any) {
	f.mu.Lock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *wireFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.fail("read body: %v", err)
		return
	}
	f.mu.Lock()
	i := f.n
	f.n++
	f.mu.Unlock()
	if i >= len(f.turns) {
		f.fail("request %d past the script", i)
		http.Error(w, `{"error":{"type":"invalid_request_error","message":"script exhausted"}}`, http.StatusBadRequest)
		return
	}
	var res map[string]string
	var tools []string
	var reply any
	switch f.provider {
	case "anthropic":
		if r.URL.Path != "/v1/messages" {
			f.fail("anthropic path %s", r.URL.Path)
		}
		res, tools = f.decodeAnthropic(body)
		reply = anthropicReply(i, f.turns[i])
	case "openai":
		if r.URL.Path != "/v1/chat/completions" {
			f.fail("openai path %s", r.URL.Path)
		}
		res, tools = f.decodeOpenAI(body)
		reply = openAIReply(i, f.turns[i])
	}
	f.mu.Lock()
	f.results = append(f.results, res)
	if i == 0 {
		f.offered = tools
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(reply)
}

func (f *wireFake) decodeAnthropic(body []byte) (map[string]string, []string) {
	var p asdk.MessageNewParams
	if err := json.Unmarshal(body, &p); err != nil {
		f.fail("request is not a MessageNewParams: %v", err)
		return nil, nil
	}
	if len(p.System) == 0 || p.MaxTokens <= 0 {
		f.fail("request lacks system or max_tokens: %s", body)
	}
	res := map[string]string{}
	for _, m := range p.Messages {
		if m.OfUser == nil {
			continue
		}
		for _, b := range m.OfUser.Content {
			if tr := b.OfToolResult; tr != nil {
				var text []string
				for _, c := range tr.Content {
					if c.OfText != nil {
						text = append(text, c.OfText.Text)
					}
				}
				res[tr.ToolUseID] = strings.Join(text, "")
			}
		}
	}
	var tools []string
	for _, t := range p.Tools {
		if t.OfTool != nil {
			tools = append(tools, t.OfTool.Name)
		}
	}
	return res, tools
}

func (f *wireFake) decodeOpenAI(body []byte) (map[string]string, []string) {
	var p osdk.ChatCompletionNewParams
	if err := json.Unmarshal(body, &p); err != nil {
		f.fail("request is not a ChatCompletionNewParams: %v", err)
		return nil, nil
	}
	res := map[string]string{}
	for _, m := range p.Messages {
		if tm := m.OfTool; tm != nil {
			res[tm.ToolCallID] = tm.Content.OfString.Value
		}
	}
	var tools []string
	for _, t := range p.Tools {
		if t.OfFunction != nil {
			tools = append(tools, t.OfFunction.Function.Name)
		}
	}
	return res, tools
}

// anthropicReply encodes a turn as a Messages API response: text and
// tool_use content blocks, stop_reason tool_use or end_turn.
func anthropicReply(i int, c *llm.Completion) map[string]any {
	msg := c.Choices[0].Message
	var content []map[string]any
	if msg.Content != "" {
		content = append(content, map[string]any{"type": "text", "text": msg.Content})
	}
	stop := "end_turn"
	for _, tc := range msg.ToolCalls {
		content = append(content, map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": tc.Arguments})
		stop = "tool_use"
	}
	return map[string]any{"id": fmt.Sprintf("msg_%d", i), "type": "message", "role": "assistant", "model": "claude-test",
		"content": content, "stop_reason": stop, "stop_sequence": nil,
		"usage": map[string]int{"input_tokens": c.Usage.PromptTokens, "output_tokens": c.Usage.CompletionTokens}}
}

// openAIReply encodes a turn as a Chat Completions response with
// tool_calls whose arguments are JSON strings.
func openAIReply(i int, c *llm.Completion) map[string]any {
	msg := c.Choices[0].Message
	m := map[string]any{"role": "assistant", "content": nil}
	if msg.Content != "" {
		m["content"] = msg.Content
	}
	finish := "stop"
	if len(msg.ToolCalls) > 0 {
		var calls []map[string]any
		for _, tc := range msg.ToolCalls {
			calls = append(calls, map[string]any{"id": tc.ID, "type": "function",
				"function": map[string]any{"name": tc.Name, "arguments": string(tc.Arguments)}})
		}
		m["tool_calls"] = calls
		finish = "tool_calls"
	}
	return map[string]any{"id": fmt.Sprintf("chatcmpl-%d", i), "object": "chat.completion", "created": 1730000000 + i, "model": "gpt-test",
		"choices": []map[string]any{{"index": 0, "message": m, "logprobs": nil, "finish_reason": finish}},
		"usage":   map[string]int{"prompt_tokens": c.Usage.PromptTokens, "completion_tokens": c.Usage.CompletionTokens, "total_tokens": c.Usage.PromptTokens + c.Usage.CompletionTokens}}
}

// TestWireRepliesDecodeAsSDKTypes checks the fakes' replies against the
// SDKs' response types, so the wire tests below exercise real shapes.
func TestWireRepliesDecodeAsSDKTypes(t *testing.T) {
	c := turn("looking", call("toolu_1", ToolReadFile, map[string]string{"path": "harness.star"}))
	b, _ := json.Marshal(anthropicReply(0, c))
	var am asdk.Message
	if err := json.Unmarshal(b, &am); err != nil {
		t.Fatal(err)
	}
	if len(am.Content) != 2 || am.Content[1].Type != "tool_use" || am.Content[1].Name != ToolReadFile || am.StopReason != asdk.StopReasonToolUse {
		t.Errorf("anthropic message %+v", am)
	}
	b, _ = json.Marshal(openAIReply(0, c))
	var oc osdk.ChatCompletion
	if err := json.Unmarshal(b, &oc); err != nil {
		t.Fatal(err)
	}
	tc := oc.Choices[0].Message.ToolCalls
	if len(tc) != 1 || tc[0].Function.Name != ToolReadFile || tc[0].Function.Arguments != `{"path":"harness.star"}` || oc.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("openai completion %+v", oc)
	}
}

func newWireModel(t *testing.T, provider string, turns ...*llm.Completion) (llm.Model, *wireFake) {
	t.Helper()
	f := &wireFake{t: t, provider: provider, turns: turns}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	var (
		m   llm.Model
		err error
	)
	switch provider {
	case "anthropic":
		m, err = anthropic.NewModel(t.Context(), "claude-test", &anthropic.Config{BaseURL: srv.URL, APIKey: "test-key", MaxRetries: -1})
	case "openai":
		m, err = openai.NewModel(t.Context(), "gpt-test", &openai.Config{BaseURL: srv.URL + "/v1", APIKey: "test-key", MaxRetries: -1})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.problems {
			t.Error(p)
		}
	})
	return m, f
}

// TestAgentsOverRealWireFormats runs the Meta- and Feedback-Agent sessions
// through the real backends against servers speaking the Anthropic Messages
// and OpenAI Chat Completions formats: tool calls arrive as tool_use blocks
// or tool_calls, and every result goes back as a tool_result block or a
// tool message carrying the call's id.
func TestAgentsOverRealWireFormats(t *testing.T) {
	for _, provider := range []string{"anthropic", "openai"} {
		t.Run(provider+"/meta", func(t *testing.T) {
			in := metaInput(t, newFakeMeasure(t, 30))
			m, f := newWireModel(t, provider,
				turn("I will improve extraction.", call("w1", ToolWriteFile, map[string]string{"path": StarlarkFile, "content": improvedStar}),
					call("r1", ToolRunHarness, map[string]int{"n_items": 2})),
				turn("", call("x1", ToolReadFile, map[string]string{"path": "/etc/passwd"})),
				turn("Done: the harness now extracts the letter."),
			)
			meta, err := NewMeta(Config{Model: m})
			if err != nil {
				t.Fatal(err)
			}
			src, err := meta.Initial(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if string(src.Code) != improvedStar {
				t.Fatalf("harness %q", src.Code)
			}
			if len(f.results) != 3 {
				t.Fatalf("%d requests, want 3", len(f.results))
			}
			if got := f.results[1]["w1"]; !strings.HasPrefix(got, "wrote harness.star") {
				t.Errorf("write_file result on the wire: %q", got)
			}
			if got := f.results[1]["r1"]; !strings.Contains(got, `"correct":2`) {
				t.Errorf("run_harness result on the wire: %q", got)
			}
			if got := f.results[2]["x1"]; !strings.Contains(got, "absolute") {
				t.Errorf("escape attempt result on the wire: %q", got)
			}
			if strings.Join(f.offered, ",") != "list_dir,read_file,write_file,edit_file,delete_file,read_docs,run_harness,measure_harness,search_knobs,read_trajectories" {
				t.Errorf("tools offered: %v", f.offered)
			}
		})
		t.Run(provider+"/feedback", func(t *testing.T) {
			in := feedbackInput(t, nil)
			m, f := newWireModel(t, provider,
				turn("", call("s1", ToolRewardStats, map[string]any{}), call("t1", ToolReadTrajectories, map[string]any{"n": 2, "filter": "invalid"})),
				turn("Training fits the failures.", call("d1", ToolSubmitDecision, map[string]string{"action": "weights", "algorithm": "best_of_n",
					"rationale": "invalid answers dominate; clone the verified ones", "hypothesis": "format errors", "expected": "+0.1", "risk": "few positives"})),
			)
			fb, err := NewFeedback(Config{Model: m})
			if err != nil {
				t.Fatal(err)
			}
			out, err := fb.Decide(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Decision.Action != agent.ActionWeights || out.Decision.Algorithm != "best_of_n" || out.Decision.Recommended != in.Recommended {
				t.Errorf("decision %+v", out.Decision)
			}
			if len(f.results) != 2 {
				t.Fatalf("%d requests, want 2", len(f.results))
			}
			if got := f.results[1]["s1"]; !strings.Contains(got, `"recommended_algorithm":"`+string(in.Recommended)+`"`) {
				t.Errorf("reward_stats on the wire: %q", got)
			}
			if got := f.results[1]["t1"]; !strings.Contains(got, `"status":"invalid"`) || strings.Contains(got, `"status":"wrong"`) {
				t.Errorf("read_trajectories on the wire: %q", got)
			}
		})
	}
}
