package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	asdk "github.com/anthropics/anthropic-sdk-go/v2"
	osdk "github.com/openai/openai-go/v3"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/llmagent"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/anthropic"
	"github.com/sia-agent/sia/llm/openai"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// The task: items {id, x}, answer x+1. The fake task model always answers
// "The answer is N." so the harness must extract N.
const referenceHarness = `def solve(item):
    return model.chat("What is x+1 for x=%s?" % item["x"]).text
`

// The Meta-Agent's harness strips the prefix but keeps the period: wrong.
const metaHarness = `def solve(item):
    reply = model.chat("What is x+1 for x=%s?" % item["x"]).text
    return reply.replace("The answer is ", "").strip()
`

// The Feedback-Agent's first edit drops the period: correct.
const (
	editOld     = `return reply.replace("The answer is ", "").strip()`
	editNew     = `return reply.replace("The answer is ", "").strip().rstrip(".")`
	secondEdit  = `    reply = model.chat(`
	secondEditN = `    # ask for the number only
    reply = model.chat(`
)

func writeTask(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"task.yaml": `name: plusone
metric: accuracy
verifier: exact
answer: an integer
splits:
  train: {file: public/train.csv}
  val: {carve_from: train, count: 6, seed: 3}
  test: {file: public/test.csv, gold: {file: private/test.csv}}
`,
		"task.md":                "Add one to x. Answer with the integer only.\n",
		"reference/harness.star": referenceHarness,
	}
	var train, test, gold strings.Builder
	train.WriteString("id,x,label\n")
	test.WriteString("id,x\n")
	gold.WriteString("id,label\n")
	for i := range 20 {
		fmt.Fprintf(&train, "t%02d,%d,%d\n", i, i, i+1)
	}
	for i := range 4 {
		fmt.Fprintf(&test, "q%02d,%d\n", i, 100+i)
		fmt.Fprintf(&gold, "q%02d,%d\n", i, 101+i)
	}
	files["data/public/train.csv"] = train.String()
	files["data/public/test.csv"] = test.String()
	files["data/private/test.csv"] = gold.String()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// turn is one scripted agent reply: text and tool calls.
type turn struct {
	text  string
	calls []toolCall
}

type toolCall struct {
	id, name string
	args     any
}

func (c toolCall) raw() string {
	b, _ := json.Marshal(c.args)
	return string(b)
}

// scriptServer replies with turns in order in one wire format and records
// each request's tool results (call id → content), decoded with the SDK's
// own request type.
type scriptServer struct {
	format string // "anthropic" or "openai"
	turns  []turn

	mu       sync.Mutex
	n        int
	results  map[string]string
	problems []string
}

func (s *scriptServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.results == nil {
		s.results = map[string]string{}
	}
	i := s.n
	s.n++
	if i >= len(s.turns) {
		s.problems = append(s.problems, fmt.Sprintf("%s request %d past the script", s.format, i))
		http.Error(w, `{"error":{"type":"invalid_request_error","message":"script exhausted"}}`, http.StatusBadRequest)
		return
	}
	tr := s.turns[i]
	var reply any
	switch s.format {
	case "anthropic":
		var p asdk.MessageNewParams
		if err := json.Unmarshal(body, &p); err != nil {
			s.problems = append(s.problems, "anthropic request: "+err.Error())
		}
		for _, m := range p.Messages {
			if m.OfUser == nil {
				continue
			}
			for _, b := range m.OfUser.Content {
				if res := b.OfToolResult; res != nil {
					var text []string
					for _, c := range res.Content {
						if c.OfText != nil {
							text = append(text, c.OfText.Text)
						}
					}
					s.results[res.ToolUseID] = strings.Join(text, "")
				}
			}
		}
		content := []map[string]any{}
		if tr.text != "" {
			content = append(content, map[string]any{"type": "text", "text": tr.text})
		}
		stop := "end_turn"
		for _, c := range tr.calls {
			content = append(content, map[string]any{"type": "tool_use", "id": c.id, "name": c.name, "input": c.args})
			stop = "tool_use"
		}
		reply = map[string]any{"id": fmt.Sprintf("msg_%d", i), "type": "message", "role": "assistant", "model": "claude-e2e",
			"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": map[string]int{"input_tokens": 1000, "output_tokens": 50}}
	case "openai":
		var p osdk.ChatCompletionNewParams
		if err := json.Unmarshal(body, &p); err != nil {
			s.problems = append(s.problems, "openai request: "+err.Error())
		}
		for _, m := range p.Messages {
			if m.OfTool != nil {
				s.results[m.OfTool.ToolCallID] = m.OfTool.Content.OfString.Value
			}
		}
		msg := map[string]any{"role": "assistant", "content": nil}
		if tr.text != "" {
			msg["content"] = tr.text
		}
		finish := "stop"
		if len(tr.calls) > 0 {
			var calls []map[string]any
			for _, c := range tr.calls {
				calls = append(calls, map[string]any{"id": c.id, "type": "function", "function": map[string]any{"name": c.name, "arguments": c.raw()}})
			}
			msg["tool_calls"], finish = calls, "tool_calls"
		}
		reply = map[string]any{"id": fmt.Sprintf("chatcmpl-%d", i), "object": "chat.completion", "created": 1730000000, "model": "gpt-e2e",
			"choices": []map[string]any{{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
			"usage":   map[string]int{"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050}}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(reply)
}

var xRe = regexp.MustCompile(`x=(\d+)`)

// taskModel is a vLLM-style OpenAI-compatible server: it answers "The
// answer is x+1." with per-choice token_ids, token_id:N logprobs and the
// prompt's token ids, as vLLM does with return_token_ids and
// return_tokens_as_token_ids.
type taskModel struct {
	mu       sync.Mutex
	calls    int
	problems []string
}

func (m *taskModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p osdk.ChatCompletionNewParams
	err := json.Unmarshal(body, &p)
	var prompt string
	if err == nil && len(p.Messages) > 0 && p.Messages[len(p.Messages)-1].OfUser != nil {
		prompt = p.Messages[len(p.Messages)-1].OfUser.Content.OfString.Value
	}
	m.mu.Lock()
	m.calls++
	if err != nil {
		m.problems = append(m.problems, "task model request: "+err.Error())
	}
	m.mu.Unlock()
	x := 0
	if mm := xRe.FindStringSubmatch(prompt); mm != nil {
		x, _ = strconv.Atoi(mm[1])
	}
	text := fmt.Sprintf("The answer is %d.", x+1)
	ids := []int{464, 3280, 318, 1000 + x + 1, 13}
	var lps []map[string]any
	for _, id := range ids {
		lps = append(lps, map[string]any{"token": fmt.Sprintf("token_id:%d", id), "logprob": -0.5, "bytes": []int{}, "top_logprobs": []any{}})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-task", "object": "chat.completion", "created": 1730000000, "model": "policy-e2e",
		"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": text, "tool_calls": []any{}},
			"logprobs": map[string]any{"content": lps}, "finish_reason": "stop", "token_ids": ids}},
		"usage":            map[string]int{"prompt_tokens": 12, "completion_tokens": len(ids), "total_tokens": 12 + len(ids)},
		"prompt_token_ids": []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
	})
}

// TestLLMAgentsThreeGenerations runs the loop for 3 generations with the
// LLM Meta-Agent on the Anthropic Messages format, the LLM Feedback-Agent
// on the OpenAI Chat Completions format and the task model on a vLLM-style
// OpenAI server, all httptest servers; it checks the run folder holds the
// harness the Meta-Agent wrote, the decisions the Feedback-Agent submitted
// and token-level trajectories.
func TestLLMAgentsThreeGenerations(t *testing.T) {
	ctx := t.Context()
	metaSrv := &scriptServer{format: "anthropic", turns: []turn{
		{text: "Reading the reference.", calls: []toolCall{{"m1", llmagent.ToolReadFile, map[string]any{"path": "harness.star"}}}},
		{calls: []toolCall{{"m2", llmagent.ToolWriteFile, map[string]any{"path": "harness.star", "content": metaHarness}},
			{"m3", llmagent.ToolRunHarness, map[string]any{"n_items": 2}}}},
		{text: "The harness strips the answer prefix."},
	}}
	fbSrv := &scriptServer{format: "openai", turns: []turn{
		// after gen 1
		{calls: []toolCall{{"f1", llmagent.ToolRewardStats, map[string]any{}}, {"f2", llmagent.ToolReadTrajectories, map[string]any{"n": 2, "filter": "failed"}}}},
		{calls: []toolCall{{"f3", llmagent.ToolEditFile, map[string]any{"path": "harness.star", "old": editOld, "new": editNew}},
			{"f4", llmagent.ToolSubmitDecision, map[string]any{"action": "harness", "rationale": "answers end with a period",
				"hypothesis": "the trailing period fails exact match", "expected": "accuracy to 1.0", "risk": "none seen"}}}},
		// after gen 2
		{calls: []toolCall{{"f5", llmagent.ToolEditFile, map[string]any{"path": "harness.star", "old": secondEdit, "new": secondEditN}},
			{"f6", llmagent.ToolSubmitDecision, map[string]any{"action": "harness", "rationale": "document the prompt",
				"hypothesis": "a clearer harness", "expected": "no change", "risk": "none"}}}},
	}}
	tm := &taskModel{}
	servers := map[string]http.Handler{"meta": metaSrv, "feedback": fbSrv, "task": tm}
	urls := map[string]string{}
	for name, h := range servers {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls[name] = srv.URL
	}

	metaModel, err := anthropic.NewModel(ctx, "claude-e2e", &anthropic.Config{BaseURL: urls["meta"], APIKey: "k", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	fbModel, err := openai.NewModel(ctx, "gpt-e2e", &openai.Config{BaseURL: urls["feedback"] + "/v1", APIKey: "k", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := openai.NewModel(ctx, "policy-e2e", &openai.Config{BaseURL: urls["task"] + "/v1", VLLM: true, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := llmagent.NewMeta(llmagent.Config{Model: metaModel})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := llmagent.NewFeedback(llmagent.Config{Model: fbModel})
	if err != nil {
		t.Fatal(err)
	}

	tk, err := task.OpenDir(writeTask(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loop.Config{RunID: "e2e", Task: "plusone", MaxGen: 3, Mode: agent.ModeHarness, Seed: 5, Parallel: 2, Samples: 1,
		Metric: "accuracy", HigherIsBetter: true, MetaProfile: "anthropic-fake", TargetProfile: "vllm-fake", Trainer: "none"}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(t.TempDir(), "run_e2e")
	store, err := runstore.Create(runDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := loop.Run(ctx, cfg, loop.Deps{
		Task: tk, Data: data, Runtime: starlark.New(starlark.Config{}), Meta: meta, Feedback: fb, Store: store,
		Policy: func(context.Context, string, int) (llm.Model, error) { return policy, nil },
	}, nil)
	for _, s := range []*scriptServer{metaSrv, fbSrv} {
		for _, p := range s.problems {
			t.Error(p)
		}
	}
	for _, p := range tm.problems {
		t.Error(p)
	}
	if err != nil {
		t.Fatal(err)
	}

	// The loop ran three generations and the feedback edit fixed the score.
	if len(st.Gens) != 3 || st.Gens[0].Score != 0 || st.Gens[1].Score != 1 {
		t.Fatalf("generations: %+v", st.Gens)
	}
	// The Meta-Agent's harness is gen 1's.
	if b, err := os.ReadFile(filepath.Join(runDir, "gen_1", "harness.star")); err != nil || string(b) != metaHarness {
		t.Errorf("gen_1/harness.star = %q, %v", b, err)
	}
	// The Feedback-Agent's edits are gens 2 and 3, with its decisions.
	gen2, _ := os.ReadFile(filepath.Join(runDir, "gen_2", "harness.star"))
	if want := strings.Replace(metaHarness, editOld, editNew, 1); string(gen2) != want {
		t.Errorf("gen_2/harness.star = %q, want %q", gen2, want)
	}
	gen3, _ := os.ReadFile(filepath.Join(runDir, "gen_3", "harness.star"))
	if !strings.Contains(string(gen3), "# ask for the number only") {
		t.Errorf("gen_3/harness.star = %q", gen3)
	}
	var dec agent.Decision
	b, err := os.ReadFile(filepath.Join(runDir, "gen_2", "decision.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dec); err != nil {
		t.Fatal(err)
	}
	if dec.Action != agent.ActionHarness || dec.Rationale != "answers end with a period" || dec.Hypothesis != "the trailing period fails exact match" {
		t.Errorf("gen_2/decision.json: %s", b)
	}
	// Tool results went back on the wire with the calls' ids.
	if got := metaSrv.results["m3"]; !strings.Contains(got, `"wrong":2`) {
		t.Errorf("meta run_harness result: %q", got)
	}
	if got := fbSrv.results["f2"]; !strings.Contains(got, "The answer is") || strings.Contains(got, `"label"`) {
		t.Errorf("feedback read_trajectories result: %q", got)
	}
	// Trajectories carry the task model's token ids and logprobs.
	f, err := os.Open(filepath.Join(runDir, "gen_2", "rollouts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts, err := trajectory.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != len(data.Items(task.Val)) {
		t.Fatalf("%d trajectories, want %d", len(ts), len(data.Items(task.Val)))
	}
	for _, tr := range ts {
		ms := tr.ModelSteps()
		if len(ms) != 1 || len(ms[0].CompletionTokenIDs) != 5 || len(ms[0].Logprobs) != 5 || len(ms[0].PromptTokenIDs) != 12 || tr.Status != "correct" {
			t.Errorf("trajectory %s: status %s, model steps %+v", tr.Item, tr.Status, ms)
		}
	}
}
