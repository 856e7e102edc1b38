package llmagent

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

func feedbackInput(t *testing.T, fm *fakeMeasure) agent.FeedbackInput {
	t.Helper()
	inc := harness.Source{Name: StarlarkFile, Code: []byte(referenceStar), Knobs: map[string]any{"style": "short"}}
	items := []verify.ItemResult{
		{ID: "q1", Status: verify.StatusCorrect, Reward: 1, Output: "A"},
		{ID: "q2", Status: verify.StatusWrong, Output: "C", Detail: "parsed letter C"},
		{ID: "q3", Status: verify.StatusInvalid, Output: "I think the answer is probably", Detail: "no letter found"},
		{ID: "q4", Status: verify.StatusError, Detail: "step limit exceeded"},
	}
	var ts []trajectory.Trajectory
	for s := range 2 {
		for _, it := range items {
			ts = append(ts, trajectory.Trajectory{Item: it.ID, Sample: s, Status: it.Status, Reward: it.Reward, Answer: it.Output,
				Steps: []trajectory.Step{
					{Kind: trajectory.KindModel, Messages: []llm.Message{{Role: llm.RoleUser, Content: "Question " + it.ID}},
						Completion: "reply to " + it.ID, CompletionTokenIDs: []int{5, 6, 7}, Logprobs: []float64{-1, -2, -3}},
					{Kind: trajectory.KindLog, Text: "extracted " + it.Output},
				}})
		}
	}
	var vals []task.Item
	for i, it := range items {
		vals = append(vals, task.Item{ID: it.ID, Fields: map[string]any{"question": "Question " + it.ID, "topic": []string{"law", "math"}[i%2]}})
	}
	stats := rl.Stats{N: 8, Items: 4, SamplesPerItem: 2, SuccessRate: 0.25, Mean: 0.25, Variance: 0.1875, FailedFrac: 0.5, Binary: true, TokenSamples: 8}
	rec, _ := rl.Select(stats)
	in := agent.FeedbackInput{
		TaskName: "mcq", TaskDoc: "Answer each multiple-choice question with one letter.", Mode: agent.ModeAuto, Gen: 2,
		Current: inc, Incumbent: inc, Decl: harness.Decl{Knobs: map[string][]any{"style": {"short", "long"}}},
		History: []agent.GenSummary{
			{Gen: 1, Action: "initial", Score: 0.2, HarnessSHA: "aaaaaaaaaaaa"},
			{Gen: 2, Action: agent.ActionHarness, Score: 0.25, HarnessSHA: inc.SHA(), Rationale: "added a retry"},
		},
		Higher: true,
		Results: &verify.Result{Task: "mcq", Split: "val", Metric: "accuracy", Score: 0.25, Higher: true, N: 4,
			Counts: map[string]int{"correct": 1, "wrong": 1, "invalid": 1, "error": 1}, Items: items},
		Rollouts: ts, Stats: stats, Recommended: rec, CanTrain: true, RemainingGens: 3,
		GenDir: filepath.Join(t.TempDir(), "gen_3"), Seed: 7, Items: vals,
		Docs: fstest.MapFS{"harness.md": {Data: []byte(testHarnessDoc)}},
	}
	if fm != nil {
		in.Measure, in.TrainSize = fm.measure, len(fm.train)
	}
	return in
}

func TestFeedbackHarnessSession(t *testing.T) {
	fm := newFakeMeasure(t, 30)
	in := feedbackInput(t, fm)
	m := scripted(t,
		turn("", call("s", ToolRewardStats, map[string]any{}), call("r", ToolReadTrajectories, map[string]any{"n": 3, "filter": "failed"})),
		turn("", call("d0", ToolSubmitDecision, map[string]string{"action": "harness", "rationale": "r", "hypothesis": "h", "expected": "e", "risk": "k"})),
		turn("", call("e", ToolEditFile, map[string]string{"path": StarlarkFile,
			"old": "    return model.chat(", "new": "    return extract(model.chat("}), call("t", ToolMeasureHarness, map[string]int{"folds": 2, "items": 10})),
		turn("Submitting.", call("d1", ToolSubmitDecision, map[string]string{"action": "harness", "rationale": "answers lack a letter",
			"hypothesis": "extraction fails on verbose replies", "expected": "+0.2 accuracy", "risk": "over-eager extraction"})),
	)
	fb, err := NewFeedback(Config{Model: m})
	if err != nil {
		t.Fatal(err)
	}
	out, err := fb.Decide(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	d := out.Decision
	if d.Action != agent.ActionHarness || d.Algorithm != "" || d.Hypothesis != "extraction fails on verbose replies" || d.Risk != "over-eager extraction" {
		t.Errorf("decision %+v", d)
	}
	if d.Recommended != in.Recommended || d.RewardStats != in.Stats || !strings.Contains(d.Evidence, "accuracy = 0.25") || !strings.Contains(d.Change, "+1 −1 lines") {
		t.Errorf("derived fields: rec %q evidence %q change %q", d.Recommended, d.Evidence, d.Change)
	}
	if out.Harness == nil || !strings.Contains(string(out.Harness.Code), "return extract(model.chat(") || out.Harness.Knobs["style"] != "short" {
		t.Fatalf("harness %+v", out.Harness)
	}

	calls := m.Calls()
	user := calls[0].Messages[1].Content
	for _, want := range []string{"| 2 | harness | - | - | 0.25 |", "q3: invalid", "no letter found", `"topic":"math"`,
		"Recommended algorithm: " + string(in.Recommended), "# Harness API", "def solve(item)"} {
		if !strings.Contains(user, want) {
			t.Errorf("feedback prompt lacks %q", want)
		}
	}
	if strings.Contains(user, "q1: correct") {
		t.Error("a correct item is in the failure sample")
	}
	r1 := toolResults(calls[1])
	var stats statsReport
	if err := json.Unmarshal([]byte(r1["s"]), &stats); err != nil {
		t.Fatal(err)
	}
	if stats.Stats != in.Stats || stats.Recommended != in.Recommended || strings.Join(stats.AllowedActions, ",") != "harness,weights,stop" || stats.Score != 0.25 {
		t.Errorf("reward_stats %+v", stats)
	}
	var page trajPage
	if err := json.Unmarshal([]byte(r1["r"]), &page); err != nil {
		t.Fatal(err)
	}
	if page.Source != "val" || page.Matching != 6 || len(page.Rollouts) != 3 || page.NextOffset == nil || *page.NextOffset != 3 {
		t.Fatalf("read_trajectories page %+v", page)
	}
	for _, rv := range page.Rollouts {
		if rv.Status == verify.StatusCorrect || len(rv.Steps) != 2 || rv.Steps[0].Completion != "reply to "+rv.Item ||
			len(rv.Steps[0].Messages) != 1 || rv.Steps[0].Messages[0].Content != "Question "+rv.Item || rv.Fields["question"] != "Question "+rv.Item {
			t.Errorf("rollout view %+v", rv)
		}
	}
	if strings.Contains(r1["r"], "token_ids") || strings.Contains(r1["r"], `"label"`) {
		t.Error("read_trajectories shows token ids or labels")
	}
	if got := toolResults(calls[2])["d0"]; !strings.Contains(got, "unchanged from the incumbent") {
		t.Errorf("harness decision with no edit answered %q", got)
	}
	var meas measureAnswer
	if err := json.Unmarshal([]byte(toolResults(calls[3])["t"]), &meas); err != nil {
		t.Fatal(err)
	}
	if meas.Score != 1 || meas.N != 10 || meas.Folds != 2 || meas.Seed != in.Seed {
		t.Errorf("measure_harness after the edit: %+v", meas)
	}
}

func TestFeedbackWeightsOverrideRestoresIncumbent(t *testing.T) {
	in := feedbackInput(t, nil)
	m := scripted(t,
		turn("", call("w", ToolWriteFile, map[string]string{"path": StarlarkFile, "content": "scratch"})),
		turn("", call("d", ToolSubmitDecision, map[string]string{"action": "weights", "algorithm": "grpo", "rationale": "two samples disagree on half the items",
			"hypothesis": "policy is unsure", "expected": "+0.1", "risk": "overfit"})),
	)
	fb, err := NewFeedback(Config{Model: m})
	if err != nil {
		t.Fatal(err)
	}
	out, err := fb.Decide(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Harness != nil || out.Decision.Action != agent.ActionWeights || out.Decision.Algorithm != rl.GRPO {
		t.Fatalf("output %+v", out)
	}
	if in.Recommended == rl.GRPO {
		t.Fatal("fixture must recommend something else for this test")
	}
	if out.Decision.Recommended != in.Recommended || !strings.Contains(out.Decision.Change, "recommended "+string(in.Recommended)) {
		t.Errorf("override not visible: %+v", out.Decision)
	}
	b, _ := os.ReadFile(filepath.Join(in.GenDir, StarlarkFile))
	if string(b) != referenceStar {
		t.Errorf("gen dir harness %q, want the incumbent restored", b)
	}
	for _, tl := range m.Calls()[0].Tools {
		if tl.Name == ToolSubmitDecision && !strings.Contains(string(tl.Parameters), `"enum":["harness","weights","stop"]`) {
			t.Errorf("submit_decision schema %s", tl.Parameters)
		}
	}
}

func TestFeedbackModeAndForcedAlgorithm(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(*agent.FeedbackInput)
		submits []map[string]string // tried in order; the last must be accepted
		want    agent.Decision
		errIn   string // in the result of the first refused submit
	}{
		{"harness mode refuses weights", func(in *agent.FeedbackInput) { in.Mode = agent.ModeHarness },
			[]map[string]string{{"action": "weights", "algorithm": "ppo"}, {"action": "stop"}}, agent.Decision{Action: agent.ActionStop}, "not allowed in mode harness"},
		{"no trainer refuses weights", func(in *agent.FeedbackInput) { in.CanTrain = false },
			[]map[string]string{{"action": "weights"}, {"action": "stop"}}, agent.Decision{Action: agent.ActionStop}, "no trainer"},
		{"forced algorithm wins", func(in *agent.FeedbackInput) { in.ForcedAlgorithm = rl.DPO },
			[]map[string]string{{"action": "weights", "algorithm": "ppo"}}, agent.Decision{Action: agent.ActionWeights, Algorithm: rl.DPO}, ""},
		{"weights mode", func(in *agent.FeedbackInput) { in.Mode = agent.ModeWeights },
			[]map[string]string{{"action": "harness"}, {"action": "weights"}}, agent.Decision{Action: agent.ActionWeights, Algorithm: rl.Entropic}, "not allowed in mode weights"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := feedbackInput(t, nil)
			tt.modify(&in)
			var turns []*llm.Completion
			for i, s := range tt.submits {
				args := map[string]string{"rationale": "because", "hypothesis": "h", "expected": "e", "risk": "r"}
				for k, v := range s {
					args[k] = v
				}
				turns = append(turns, turn("", call(string(rune('a'+i)), ToolSubmitDecision, args)))
			}
			m := scripted(t, turns...)
			fb, err := NewFeedback(Config{Model: m})
			if err != nil {
				t.Fatal(err)
			}
			out, err := fb.Decide(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Decision.Action != tt.want.Action || out.Decision.Algorithm != tt.want.Algorithm {
				t.Errorf("decision %s/%s, want %s/%s", out.Decision.Action, out.Decision.Algorithm, tt.want.Action, tt.want.Algorithm)
			}
			if tt.errIn != "" {
				if got := toolResults(m.Calls()[1])["a"]; !strings.Contains(got, tt.errIn) {
					t.Errorf("refusal %q lacks %q", got, tt.errIn)
				}
			}
		})
	}
}

func TestFeedbackWithoutDecision(t *testing.T) {
	tests := []struct {
		name   string
		model  llm.Model
		cfg    Config
		wantIs error
	}{
		{"ends without submitting, even when nudged", llmtest.New("prose", func(int, llm.Request) (*llm.Completion, error) {
			return turn("I think we should train."), nil
		}), Config{}, ErrNoDecision},
		{"turn limit", llmtest.New("x", func(int, llm.Request) (*llm.Completion, error) {
			return turn("", call("s", ToolRewardStats, map[string]any{})), nil
		}), Config{MaxTurns: 3}, ErrTurnLimit},
		{"token limit", llmtest.New("x", func(int, llm.Request) (*llm.Completion, error) {
			return turn("", call("s", ToolRewardStats, map[string]any{})), nil
		}), Config{MaxTokens: 150}, ErrTokenLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Model = tt.model
			fb, err := NewFeedback(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = fb.Decide(t.Context(), feedbackInput(t, nil))
			if !errors.Is(err, ErrNoDecision) || !errors.Is(err, tt.wantIs) {
				t.Fatalf("err %v, want ErrNoDecision and %v", err, tt.wantIs)
			}
		})
	}
}

func TestFeedbackInputErrors(t *testing.T) {
	fb, err := NewFeedback(Config{Model: scripted(t)})
	if err != nil {
		t.Fatal(err)
	}
	in := feedbackInput(t, nil)
	in.Mode = "turbo"
	if _, err := fb.Decide(t.Context(), in); err == nil || !strings.Contains(err.Error(), `unknown mode "turbo"`) {
		t.Errorf("err %v", err)
	}
	in = feedbackInput(t, nil)
	in.Incumbent = harness.Source{}
	if _, err := fb.Decide(t.Context(), in); err == nil || !strings.Contains(err.Error(), "incumbent") {
		t.Errorf("err %v", err)
	}
}

func TestFeedbackNudgedToSubmit(t *testing.T) {
	m := scripted(t,
		turn("The failures look like formatting problems; I would train."),
		turn("", call("d", ToolSubmitDecision, map[string]string{"action": "stop", "rationale": "plateau", "hypothesis": "", "expected": "", "risk": ""})),
	)
	fb, err := NewFeedback(Config{Model: m})
	if err != nil {
		t.Fatal(err)
	}
	out, err := fb.Decide(t.Context(), feedbackInput(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if out.Decision.Action != agent.ActionStop {
		t.Errorf("decision %+v", out.Decision)
	}
	msgs := m.Calls()[1].Messages
	if last := msgs[len(msgs)-1]; last.Role != llm.RoleUser || !strings.Contains(last.Content, "Call submit_decision now") {
		t.Errorf("nudge message %+v", last)
	}
}
