package loop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/llmagent"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/llm/openai"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
)

// The replay test: an LLM-driven run — the Meta-Agent writes gen 1, the
// Feedback-Agent decides gen 2, both through their real tools on a real
// loop over a Starlark task — recorded once with a scripted model
// (go test ./loop -run TestReplayAgentRun -update), and replayed on every
// test run through the real OpenAI client against an httptest server that
// answers with the recorded replies and checks that every request the
// agents send is the recorded one. A change to a prompt, a tool's
// declaration or a tool's output changes a request and fails the test;
// after a deliberate change, -update records the conversation again (read
// the diff of testdata/replay_agent_run.json before committing it).

const replayFile = "testdata/replay_agent_run.json"

// replayHarness is the fake task's reference: right only with offset 1,
// and only below cap.
const replayHarness = `KNOBS = {"offset": [0, 1], "cap": [30, 1000]}

def setup(ctx):
    log("fitting on", len(ctx.train), "train rows")
    return None

def solve(item):
    x = int(item["x"])
    if x >= knobs["cap"]:
        return "0"
    return str(2 * x + knobs["offset"])
`

// replayDocs is a small, fixed harness reference, so edits to the real
// docs/harness.md do not change the recorded conversation.
var replayDocs = fstest.MapFS{"harness.md": {Data: []byte("# Harness API\n\nA harness defines solve(item).\n\n## API index\n\n" +
	"| names | section |\n|---|---|\n| `KNOBS`, `setup(ctx)`, `solve(item)`, `knobs`, `log(*args)` | `harness-file` |\n| `data.csv(path)` | `data` |\n\n" +
	"## Harness file\n\nKNOBS maps knob names to candidate values; knobs.json picks one.\n\n## `data`: the task's public files\n\n" +
	"data.csv(path) reads a CSV file of the data view.\n")}}

// replayScript is what the "model" answers, turn by turn: the Meta-Agent's
// session, then the Feedback-Agent's.
func replayScript() []*llm.Completion {
	call := func(id, name string, args any) llm.ToolCall {
		b, _ := json.Marshal(args)
		return llm.ToolCall{ID: id, Name: name, Arguments: b}
	}
	turn := func(text string, calls ...llm.ToolCall) *llm.Completion {
		fr := "stop"
		if len(calls) > 0 {
			fr = "tool_calls"
		}
		return &llm.Completion{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: text, ToolCalls: calls}, FinishReason: fr}},
			Usage: llm.Usage{PromptTokens: 1000, CompletionTokens: 50}}
	}
	return []*llm.Completion{
		// Meta-Agent.
		turn("Reading the data docs and smoke-testing the reference.",
			call("m1", llmagent.ToolReadDocs, map[string]string{"section": "data"}),
			call("m2", llmagent.ToolRunHarness, map[string]int{"n_items": 3})),
		turn("Every answer is one below 2x+1: measuring before changing.", call("m3", llmagent.ToolMeasureHarness, map[string]int{"folds": 4})),
		turn("", call("m4", llmagent.ToolWriteFile, map[string]string{"path": "knobs.json", "content": `{"offset": 1}`}),
			call("m5", llmagent.ToolMeasureHarness, map[string]int{"folds": 4})),
		turn("Set offset=1: 4-fold cross-validation on train went from 0 to about 0.9; the items above the cap still fail."),
		// Feedback-Agent.
		turn("", call("f1", llmagent.ToolRewardStats, map[string]any{}),
			call("f2", llmagent.ToolReadTrajectories, map[string]any{"source": "val", "filter": "failed", "n": 2})),
		turn("The failures are the large x: the cap knob.", call("f3", llmagent.ToolSearchKnobs, map[string]any{"space": map[string][]int{"cap": {1000}}, "folds": 4})),
		turn("", call("f4", llmagent.ToolWriteFile, map[string]string{"path": "knobs.json", "content": `{"offset": 1, "cap": 1000}`}),
			call("f5", llmagent.ToolSubmitDecision, map[string]string{"action": "harness", "rationale": "search_knobs: cap=1000 gains on every large-x item",
				"hypothesis": "items with x >= 30 fail only because of the cap", "expected": "val to 1.0", "risk": "none seen on train"})),
	}
}

// wireMessage is one message in the form both sides of the replay agree
// on; JSON arguments and schemas are canonical (sorted keys).
type wireMessage struct {
	Role       string     `json:"role"`
	Content    string     `json:"content,omitempty"`
	ToolCalls  []wireCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type wireCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type wireTool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Parameters  string `json:"parameters"`
}

// replayTurn is one request and its answer. Requests are stored as the
// messages new since the session's previous request (Prefix counts those
// carried over), and the tools only when they change.
type replayTurn struct {
	Prefix   int           `json:"prefix"`
	Messages []wireMessage `json:"messages"`
	Tools    []wireTool    `json:"tools,omitempty"`
	Answer   wireMessage   `json:"answer"`
}

type replayRecord struct {
	FormatVersion int          `json:"format_version"`
	Note          string       `json:"note"`
	Turns         []replayTurn `json:"turns"`
}

// volatile matches what differs between two runs of the same conversation:
// wall-clock figures.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"(seconds|setup_s|duration_s|spent_seconds)":[-0-9.e+]+`), `"$1":0`},
	{regexp.MustCompile(`\b\d+(\.\d+)?s\b`), "#s"},
}

func scrub(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

func canonicalJSON(raw string) string {
	if raw == "" {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return raw
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func fromLLM(m llm.Message) wireMessage {
	w := wireMessage{Role: m.Role, Content: scrub(m.Content), ToolCallID: m.ToolCallID}
	for _, c := range m.ToolCalls {
		w.ToolCalls = append(w.ToolCalls, wireCall{ID: c.ID, Name: c.Name, Arguments: canonicalJSON(string(c.Arguments))})
	}
	return w
}

// conversation is what one request says: its messages and tools.
type conversation struct {
	messages []wireMessage
	tools    []wireTool
}

func conversationOf(req llm.Request) conversation {
	var c conversation
	for _, m := range req.Messages {
		c.messages = append(c.messages, fromLLM(m))
	}
	for _, t := range req.Tools {
		c.tools = append(c.tools, wireTool{Name: t.Name, Description: t.Description, Parameters: canonicalJSON(string(t.Parameters))})
	}
	return c
}

// openAIConversation decodes a Chat Completions request body.
func openAIConversation(body []byte) (conversation, error) {
	var req struct {
		Messages []struct {
			Role       string          `json:"role"`
			Content    json.RawMessage `json:"content"`
			ToolCallID string          `json:"tool_call_id"`
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
				Name        string          `json:"name"`
				Description string          `json:"description"`
				Parameters  json.RawMessage `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return conversation{}, err
	}
	var c conversation
	for _, m := range req.Messages {
		var content string
		if len(m.Content) > 0 && string(m.Content) != "null" {
			if err := json.Unmarshal(m.Content, &content); err != nil {
				return c, fmt.Errorf("message content is not a string: %s", m.Content)
			}
		}
		w := wireMessage{Role: m.Role, Content: scrub(content), ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			w.ToolCalls = append(w.ToolCalls, wireCall{ID: tc.ID, Name: tc.Function.Name, Arguments: canonicalJSON(tc.Function.Arguments)})
		}
		c.messages = append(c.messages, w)
	}
	for _, t := range req.Tools {
		c.tools = append(c.tools, wireTool{Name: t.Function.Name, Description: t.Function.Description, Parameters: canonicalJSON(string(t.Function.Parameters))})
	}
	return c, nil
}

// runReplayLoop runs the fake task with the replay harness, both agents
// answered by model.
func runReplayLoop(t *testing.T, model llm.Model) (runstore.State, error) {
	t.Helper()
	taskDir := writeTask(t, replayHarness)
	tk, err := task.OpenDir(taskDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	acfg := llmagent.Config{Model: model, MaxTurns: 6}
	meta, err := llmagent.NewMeta(acfg)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := llmagent.NewFeedback(acfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{RunID: "replay", Task: "fake", MaxGen: 2, Mode: agent.ModeHarness, Seed: 7, Parallel: 2, Samples: 1,
		TrainItems: 8, TrainSamples: 2, Metric: "accuracy", HigherIsBetter: true}.WithDefaults()
	store, err := runstore.Create(filepath.Join(t.TempDir(), "run_replay"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	return Run(t.Context(), cfg, Deps{Task: tk, Data: data, Runtime: starlark.New(starlark.Config{}), Meta: meta, Feedback: fb,
		Store: store, Docs: replayDocs}, nil)
}

// record runs the script in-process and returns the conversation.
func record(t *testing.T) replayRecord {
	script := replayScript()
	m := llmtest.New("scripted", func(i int, _ llm.Request) (*llm.Completion, error) {
		if i >= len(script) {
			return nil, fmt.Errorf("the script has %d turns; call %d", len(script), i)
		}
		return script[i], nil
	})
	if _, err := runReplayLoop(t, m); err != nil {
		t.Fatal(err)
	}
	rec := replayRecord{FormatVersion: 1, Note: "go test ./loop -run TestReplayAgentRun -update rewrites this file"}
	var prev conversation
	for i, req := range m.Calls() {
		c := conversationOf(req)
		turn := replayTurn{Answer: fromLLM(script[i].Choices[0].Message)}
		turn.Answer.Role = llm.RoleAssistant
		if n := len(prev.messages); n > 0 && n <= len(c.messages) && sameMessages(prev.messages, c.messages[:n]) {
			turn.Prefix = n
		}
		turn.Messages = c.messages[turn.Prefix:]
		if turn.Prefix == 0 || !sameTools(prev.tools, c.tools) {
			turn.Tools = c.tools
		}
		rec.Turns = append(rec.Turns, turn)
		prev = conversation{messages: append(c.messages, turn.Answer), tools: c.tools}
	}
	return rec
}

func sameMessages(a, b []wireMessage) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func sameTools(a, b []wireTool) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// replayServer answers Chat Completions requests from a recording and
// reports every request that differs from it.
type replayServer struct {
	t    *testing.T
	rec  replayRecord
	mu   sync.Mutex
	n    int
	prev conversation
	bad  []string
}

func (s *replayServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.n
	s.n++
	fail := func(format string, args ...any) {
		s.bad = append(s.bad, fmt.Sprintf("request %d: ", i)+fmt.Sprintf(format, args...))
		http.Error(w, `{"error":{"type":"invalid_request_error","message":"not the recorded conversation"}}`, http.StatusBadRequest)
	}
	if r.URL.Path != "/v1/chat/completions" {
		fail("path %s", r.URL.Path)
		return
	}
	if i >= len(s.rec.Turns) {
		fail("the recording has %d turns", len(s.rec.Turns))
		return
	}
	got, err := openAIConversation(body)
	if err != nil {
		fail("%v", err)
		return
	}
	turn := s.rec.Turns[i]
	want := conversation{tools: turn.Tools}
	if turn.Prefix > 0 {
		if turn.Prefix > len(s.prev.messages) {
			fail("the recording carries %d messages over; the previous request had %d", turn.Prefix, len(s.prev.messages))
			return
		}
		want.messages = append(want.messages, s.prev.messages[:turn.Prefix]...)
		if want.tools == nil {
			want.tools = s.prev.tools
		}
	}
	want.messages = append(want.messages, turn.Messages...)
	if d := firstDifference(want, got); d != "" {
		fail("%s", d)
		return
	}
	s.prev = conversation{messages: append(got.messages, turn.Answer), tools: got.tools}
	a := turn.Answer
	msg := map[string]any{"role": "assistant", "content": nil}
	if a.Content != "" {
		msg["content"] = a.Content
	}
	finish := "stop"
	if len(a.ToolCalls) > 0 {
		var calls []map[string]any
		for _, c := range a.ToolCalls {
			calls = append(calls, map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": c.Arguments}})
		}
		msg["tool_calls"], finish = calls, "tool_calls"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"id": fmt.Sprintf("chatcmpl-%d", i), "object": "chat.completion", "created": 1730000000 + i,
		"model": "gpt-test", "choices": []map[string]any{{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
		"usage": map[string]int{"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050}})
}

// firstDifference names the first message or tool where got departs from
// want, with both texts around the difference.
func firstDifference(want, got conversation) string {
	for i := 0; i < max(len(want.messages), len(got.messages)); i++ {
		if i >= len(want.messages) || i >= len(got.messages) {
			return fmt.Sprintf("%d messages, the recording has %d", len(got.messages), len(want.messages))
		}
		a, _ := json.Marshal(want.messages[i])
		b, _ := json.Marshal(got.messages[i])
		if !bytes.Equal(a, b) {
			return fmt.Sprintf("message %d (%s) differs:\n%s", i, got.messages[i].Role, around(string(a), string(b)))
		}
	}
	a, _ := json.Marshal(want.tools)
	b, _ := json.Marshal(got.tools)
	if !bytes.Equal(a, b) {
		return "the tools differ:\n" + around(string(a), string(b))
	}
	return ""
}

// around shows where two texts first differ.
func around(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-120)
	return fmt.Sprintf("recorded: …%s\nsent:     …%s", clipAt(want[lo:], 300), clipAt(got[lo:], 300))
}

func clipAt(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TestReplayAgentRun replays the recorded LLM-driven run through the real
// OpenAI client and the agents' real tools.
func TestReplayAgentRun(t *testing.T) {
	if *update {
		rec := record(t)
		b, err := json.MarshalIndent(rec, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(replayFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(replayFile)
	if err != nil {
		t.Fatalf("%v (record it: go test ./loop -run TestReplayAgentRun -update)", err)
	}
	var rec replayRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	srv := &replayServer{t: t, rec: rec}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	model, err := openai.NewModel(t.Context(), "gpt-test", &openai.Config{BaseURL: hs.URL + "/v1", APIKey: "test-key", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	st, runErr := runReplayLoop(t, model)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, p := range srv.bad {
		t.Error(p)
	}
	if len(srv.bad) > 0 {
		t.Fatal("the agents' conversation departs from the recording; if the change is intended, rerun with -update and review the diff")
	}
	if runErr != nil {
		t.Fatal(runErr)
	}
	if srv.n != len(rec.Turns) {
		t.Errorf("%d requests, the recording has %d", srv.n, len(rec.Turns))
	}
	// What the conversation achieved: the Meta-Agent's knob fix on gen 1,
	// the Feedback-Agent's cap fix on gen 2.
	if len(st.Gens) != 2 || st.Gens[1].Action != agent.ActionHarness || st.Gens[1].Score != 1 || st.Gens[0].Score >= 1 || st.BestGen != 2 {
		t.Errorf("run state %+v", st.Gens)
	}
	if !strings.Contains(string(b), `"name": "measure_harness"`) {
		t.Error("the recording never measures")
	}
}
