package e2e

import (
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
	"github.com/sia-agent/sia/internal/cli"
	"github.com/sia-agent/sia/report"
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

// TestLLMAgentsThreeGenerations runs `sia run` for 3 generations with the
// LLM Meta- and Feedback-Agents on the Anthropic Messages format and the task
// model on a vLLM-style OpenAI Chat Completions server, all httptest servers
// reached through profile files; it checks the run folder holds the harness
// the Meta-Agent wrote, the decisions the Feedback-Agent submitted and
// token-level trajectories.
func TestLLMAgentsThreeGenerations(t *testing.T) {
	ctx := t.Context()
	// One agent profile serves both roles (SIA's meta profile), so one
	// scripted server answers the Meta-Agent's turns, then the Feedback-Agent's.
	agentSrv := &scriptServer{format: "anthropic", turns: []turn{
		// Meta-Agent
		{text: "Reading the reference.", calls: []toolCall{{"m1", llmagent.ToolReadFile, map[string]any{"path": "harness.star"}}}},
		{calls: []toolCall{{"m2", llmagent.ToolWriteFile, map[string]any{"path": "harness.star", "content": metaHarness}},
			{"m3", llmagent.ToolRunHarness, map[string]any{"n_items": 2}}}},
		{text: "The harness strips the answer prefix."},
		// Feedback-Agent, after gen 1
		{calls: []toolCall{{"f1", llmagent.ToolRewardStats, map[string]any{}}, {"f2", llmagent.ToolReadTrajectories, map[string]any{"n": 2, "filter": "failed"}}}},
		{calls: []toolCall{{"f3", llmagent.ToolEditFile, map[string]any{"path": "harness.star", "old": editOld, "new": editNew}},
			{"f4", llmagent.ToolSubmitDecision, map[string]any{"action": "harness", "rationale": "answers end with a period",
				"hypothesis": "the trailing period fails exact match", "expected": "accuracy to 1.0", "risk": "none seen"}}}},
		// after gen 2
		{calls: []toolCall{{"f5", llmagent.ToolEditFile, map[string]any{"path": "harness.star", "old": secondEdit, "new": secondEditN}},
			{"f6", llmagent.ToolSubmitDecision, map[string]any{"action": "harness", "rationale": "document the prompt",
				"hypothesis": "a clearer harness", "expected": "no change", "risk": "none"}}}},
	}}
	metaSrv, fbSrv := agentSrv, agentSrv
	tm := &taskModel{}
	agentURL := httptest.NewServer(agentSrv)
	t.Cleanup(agentURL.Close)
	taskURL := httptest.NewServer(tm)
	t.Cleanup(taskURL.Close)

	cfgDir := t.TempDir()
	write(t, filepath.Join(cfgDir, "profiles", "providers", "claude-fake.json"),
		fmt.Sprintf(`{"provider_id": "claude-fake", "name": "fake Anthropic", "client_kind": "anthropic", "base_url": %q, "api_key_env": "FAKE_ANTHROPIC_KEY"}`, agentURL.URL))
	write(t, filepath.Join(cfgDir, "profiles", "meta", "claude-fake.json"),
		`{"profile_id": "claude-fake", "name": "Claude (fake)", "agent_impl": "llm", "model": "claude-e2e", "provider_id": "claude-fake"}`)
	write(t, filepath.Join(cfgDir, "profiles", "providers", "vllm-fake.json"),
		fmt.Sprintf(`{"provider_id": "vllm-fake", "name": "fake vLLM", "client_kind": "openai", "base_url": %q, "api_key_env": "", "vllm": true}`, taskURL.URL+"/v1"))
	write(t, filepath.Join(cfgDir, "profiles", "target", "vllm-fake.json"),
		`{"profile_id": "vllm-fake", "name": "policy on fake vLLM", "model": "policy-e2e", "provider_id": "vllm-fake", "agent_reference": "task"}`)

	taskDir := writeTask(t)
	runsDir := t.TempDir()
	env := map[string]string{"SIA_CONFIG_DIR": cfgDir, "SIA_CACHE_DIR": t.TempDir(), "FAKE_ANTHROPIC_KEY": "k"}
	var out, errb strings.Builder
	code := cli.Main(ctx, []string{"run", "--task-dir", taskDir, "--runs-dir", runsDir, "--run-id", "e2e", "--max-gen", "3",
		"--mode", "harness", "--seed", "5", "--parallel", "2", "--meta-profile", "claude-fake", "--target-profile", "vllm-fake"},
		cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return env[k] })
	for _, p := range agentSrv.problems {
		t.Error(p)
	}
	for _, p := range tm.problems {
		t.Error(p)
	}
	if code != 0 {
		t.Fatalf("sia run exited %d:\n%s\n%s", code, errb.String(), out.String())
	}
	runDir := filepath.Join(runsDir, "run_e2e")
	sum, err := report.Load(runDir)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := task.OpenDir(taskDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The loop ran three generations and the feedback edit fixed the score.
	if g := sum.Generations; len(g) != 3 || *g[0].Score != 0 || *g[1].Score != 1 {
		t.Fatalf("generations: %+v\n%s", g, out.String())
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
	ts, err := trajectory.LoadPath(filepath.Join(runDir, "gen_2", "rollouts.jsonl"))
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
