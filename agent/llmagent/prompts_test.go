package llmagent

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/verify"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current prompts")

// checkGolden compares got with testdata/name.golden, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./agent/llmagent -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; if intended, bump the prompt version or run -update.\n--- got ---\n%s", name, got)
	}
}

func TestPromptsGolden(t *testing.T) {
	p, err := loadPrompts(PromptVersion)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{}
	cfg.applyDefaults()

	metaIn := metaInput(t, newFakeMeasure(t, 30))
	md := newMetaData(&metaIn, StarlarkFile, cfg)
	fbIn := feedbackInput(t, newFakeMeasure(t, 30))
	enrich(&fbIn)
	fd := newFeedbackData(&fbIn, StarlarkFile, cfg)
	pyIn := metaInput(t, nil)
	pyIn.Runtime, pyIn.Docs, pyIn.Public, pyIn.Reference = "python", nil, nil, harness.Source{}
	pd := newMetaData(&pyIn, PythonFile, cfg)

	tests := []struct {
		golden string
		part   string
		data   any
	}{
		{"meta_system", promptMetaSystem, md},
		{"meta_user", promptMetaUser, md},
		{"meta_system_python", promptMetaSystem, pd},
		{"meta_user_python", promptMetaUser, pd},
		{"feedback_system", promptFeedbackSystem, fd},
		{"feedback_user", promptFeedbackUser, fd},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := p.render(tt.part, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got, "<no value>") {
				t.Errorf("unfilled field in %s", tt.golden)
			}
			checkGolden(t, PromptVersion+"_"+tt.golden, got)
		})
	}
}

func TestFeedbackPromptVariants(t *testing.T) {
	p, err := loadPrompts(PromptVersion)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{}
	cfg.applyDefaults()
	tests := []struct {
		name    string
		modify  func(*agent.FeedbackInput)
		part    string
		want    []string
		notWant []string
	}{
		{"forced algorithm", func(in *agent.FeedbackInput) { in.ForcedAlgorithm = rl.PPO }, promptFeedbackSystem,
			[]string{"forced the algorithm ppo"}, nil},
		{"no trainer", func(in *agent.FeedbackInput) { in.CanTrain = false }, promptFeedbackSystem,
			[]string{"no trainer available): harness, stop."}, nil},
		{"no results", func(in *agent.FeedbackInput) { in.Results = nil }, promptFeedbackUser,
			[]string{"No verifier results", "No item failed."}, nil},
		{"many failures are sampled", func(in *agent.FeedbackInput) {
			in.Results.Items = nil
			for i := range 30 {
				in.Results.Items = append(in.Results.Items, verify.ItemResult{ID: "w" + string(rune('A'+i)), Status: verify.StatusWrong})
			}
		}, promptFeedbackUser, []string{"… and 22 more"}, nil},
		{"current differs from incumbent", func(in *agent.FeedbackInput) { in.Current.Code = []byte("other") }, promptFeedbackUser,
			[]string{"the incumbent (best so far, the base for a harness edit) is " + fbSHA(t)}, []string{"ran the incumbent harness"}},
		{"lower is better", func(in *agent.FeedbackInput) { in.Higher = false }, promptFeedbackUser, []string{"lower-is-better"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := feedbackInput(t, nil)
			tt.modify(&in)
			got, err := p.render(tt.part, newFeedbackData(&in, StarlarkFile, cfg))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("prompt lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("prompt has %q", w)
				}
			}
		})
	}
}

func fbSHA(t *testing.T) string {
	in := feedbackInput(t, nil)
	return in.Incumbent.SHA()
}

func TestSampleFailuresIsSeeded(t *testing.T) {
	var items []verify.ItemResult
	for i := range 40 {
		st := verify.StatusWrong
		if i%2 == 0 {
			st = verify.StatusCorrect
		}
		items = append(items, verify.ItemResult{ID: string(rune('a' + i)), Status: st})
	}
	a, moreA := sampleFailures(items, nil, 1)
	b, _ := sampleFailures(items, nil, 1)
	c, _ := sampleFailures(items, nil, 2)
	if len(a) != maxFailures || moreA != 20-maxFailures {
		t.Fatalf("%d shown, %d more", len(a), moreA)
	}
	ids := func(fs []failureView) string {
		var s []string
		for _, f := range fs {
			if f.Status == verify.StatusCorrect {
				t.Fatalf("correct item %s sampled", f.ID)
			}
			s = append(s, f.ID)
		}
		return strings.Join(s, ",")
	}
	if ids(a) != ids(b) {
		t.Error("same seed, different sample")
	}
	if ids(a) == ids(c) {
		t.Error("different seeds gave the same sample of 8 from 20")
	}
}

// enrich gives a feedback input a run's worth of context: a weight update
// with its training curve, a paired acceptance test, train rollouts, the
// memory with a baseline, and a spend limit.
func enrich(in *agent.FeedbackInput) {
	lr := 1e-4
	trainStats := rl.Stats{N: 128, Items: 64, SamplesPerItem: 2, SuccessRate: 0.3, Mean: 0.3, Variance: 0.21, Binary: true, TokenSamples: 128}
	in.Gen = 3
	in.History = []agent.GenSummary{
		{Gen: 1, Action: "initial", Score: 0.2, HarnessSHA: "aaaaaaaaaaaa", Accepted: true, Rationale: "meta-agent wrote the first harness (40.0s)",
			DurationS: 52, Tokens: 1200},
		{Gen: 2, Action: agent.ActionHarness, Parent: 1, Score: 0.25, HarnessSHA: in.Incumbent.SHA(), Rationale: "added a retry",
			Accepted: true, Incumbent: true, DurationS: 31, Tokens: 900, CostUSD: 0.0123,
			Acceptance: &agent.Acceptance{Gain: 0.05, Lo: 0.01, Hi: 0.09, Test: "paired t", Accepted: true}},
		{Gen: 3, Action: agent.ActionWeights, Parent: 2, Algorithm: rl.GRPO, Score: 0.22, HarnessSHA: in.Incumbent.SHA(), AdapterVersion: 1,
			Rationale: "samples disagree", DurationS: 140, Tokens: 5000,
			Training: &agent.Training{Algorithm: rl.GRPO, ParentAdapter: 0, ParentGen: 2, Version: 1, Rounds: 2, Steps: 40, LossFirst: 0.7,
				LossLast: 0.4, RewardFirst: 0.25, RewardLast: 0.35, KLLast: 0.02, KLMax: 0.03, LR: &lr, TrainStats: &trainStats, TrainItems: 64}},
	}
	in.TrainRollouts = &agent.TrainRollouts{Gen: 3, HarnessSHA: in.Incumbent.SHA(), AdapterVersion: 0, Stats: trainStats}
	in.TrainPlan = agent.TrainPlan{Items: 64, Samples: 2, Rounds: 2}
	in.Budget = agent.Budget{RemainingGens: 2, SpentTokens: 7100, SpentUSD: 0.0123, LimitUSD: 5}
	in.RemainingGens = 2
	gain, se, val := 0.05, 0.02, 0.2
	in.Memory = &agent.Memory{FormatVersion: agent.MemoryVersion, Task: "mcq", Metric: "accuracy", Higher: true,
		Baseline: &agent.Baseline{HarnessSHA: "rrrrrrrrrrrr", Val: 0.18},
		Changes: []agent.Change{
			{Gen: 1, Lever: "initial", Summary: "meta-agent's harness", Val: 0.2, Accepted: true},
			{Gen: 2, Parent: 1, Lever: "harness", Summary: "edited harness.star (+2 −1 lines)", Knobs: []agent.KnobChange{{Knob: "style", From: nil, To: "short"}},
				Val: 0.25, ParentVal: &val, Gain: &gain, GainSE: &se, Paired: 4, Accepted: true, DurationS: 31, Tokens: 900, Hypothesis: "retries fix empty answers"},
		}}
}

// TestPromptsNameTheRuntimesFiles checks that both agents' prompts tell
// the model which files a harness edit changes, for each runtime, and the
// same way in every generation.
func TestPromptsNameTheRuntimesFiles(t *testing.T) {
	p, err := loadPrompts(PromptVersion)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{}
	cfg.applyDefaults()
	star := feedbackInput(t, nil)
	star.Incumbent.Knobs = nil // no knobs.json yet: the prompt still names it
	py := feedbackInput(t, nil)
	py.Incumbent = harness.Source{Name: PythonFile, Code: []byte("print('x')\n")}
	py.Current = py.Incumbent
	meta := metaInput(t, nil)
	meta.Reference.Knobs = nil
	tests := []struct {
		name, part string
		data       any
		want, not  []string
	}{
		{"starlark feedback", promptFeedbackSystem, newFeedbackData(&star, StarlarkFile, cfg),
			[]string{"Edit harness.star (the harness) and knobs.json", "delete it to give every knob its first candidate"}, []string{PythonFile}},
		{"python feedback", promptFeedbackSystem, newFeedbackData(&py, PythonFile, cfg),
			[]string{"Edit target_agent.py (the harness; knobs.json, if present, reaches it as the JSON in SIA_KNOBS)"}, []string{"harness.star"}},
		{"starlark meta", promptMetaSystem, newMetaData(&meta, StarlarkFile, cfg),
			[]string{"the run uses harness.star (the harness) and knobs.json"}, []string{PythonFile}},
	}
	for _, tt := range tests {
		got, err := p.render(tt.part, tt.data)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q", tt.name, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(got, w) {
				t.Errorf("%s names %q", tt.name, w)
			}
		}
	}
}
