package loop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/train"
)

// recordingFeedback is the builtin agent that keeps every input it saw.
type recordingFeedback struct {
	mu  sync.Mutex
	ins []agent.FeedbackInput
}

func (f *recordingFeedback) Decide(ctx context.Context, in agent.FeedbackInput) (agent.FeedbackOutput, error) {
	f.mu.Lock()
	f.ins = append(f.ins, in)
	f.mu.Unlock()
	return builtin.Feedback{}.Decide(ctx, in)
}

// policyBy answers "1" (the +1 the labels need) when good(version, seed).
func policyBy(good func(version int, seed int64) bool) PolicyFactory {
	return func(_ context.Context, _ string, version int) (llm.Model, error) {
		return llm.ModelFunc(func(_ context.Context, req llm.Request) (*llm.Completion, error) {
			reply := "0"
			if req.Seed != nil && good(version, *req.Seed) {
				reply = "1"
			}
			return &llm.Completion{Model: "fake", AdapterVersion: version, PromptTokenIDs: []int{1, 2},
				Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: reply}, TokenIDs: []int{48}, Logprobs: []float64{-0.5}}},
				Usage:   llm.Usage{PromptTokens: 2, CompletionTokens: 1}}, nil
		}), nil
	}
}

// runWith runs the loop on the fake task with the given harness code,
// mode, policy and trainer, recording the Feedback-Agent's inputs.
func runWith(t *testing.T, code, mode string, maxGen int, policy PolicyFactory, tr train.Trainer) (runstore.State, *recordingFeedback) {
	t.Helper()
	st, fb, _ := runWithCfg(t, code, mode, maxGen, policy, tr, nil)
	return st, fb
}

// runWithCfg is runWith with a change to the config; it also returns the
// run folder.
func runWithCfg(t *testing.T, code, mode string, maxGen int, policy PolicyFactory, tr train.Trainer, change func(*Config)) (runstore.State, *recordingFeedback, string) {
	t.Helper()
	tk, err := task.OpenDir(writeTask(t, code), nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{RunID: "t", Task: "fake", MaxGen: maxGen, Mode: mode, Seed: 7, Parallel: 3, Samples: 2,
		TrainItems: 8, TrainSamples: 2, Metric: "accuracy", HigherIsBetter: true}.WithDefaults()
	if change != nil {
		change(&cfg)
	}
	runDir := filepath.Join(t.TempDir(), "run_t")
	store, err := runstore.Create(runDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	fb := &recordingFeedback{}
	deps := Deps{Task: tk, Data: data, Runtime: fakeRuntime{}, Meta: builtin.Meta{}, Feedback: fb, Store: store,
		Trainer: tr, Policy: policy}
	st, err := Run(t.Context(), cfg, deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st, fb, runDir
}

// TestStatsComeFromTheIncumbent: after a weight update that broke the
// model (and was rejected), the reward statistics and the recommendation
// describe the incumbent's rollouts, not the rejected generation's.
func TestStatsComeFromTheIncumbent(t *testing.T) {
	// The base is right on half the seeds; every adapter fails every call.
	broken := func(ctx context.Context, dir string, version int) (llm.Model, error) {
		if version > 0 {
			return llm.ModelFunc(func(context.Context, llm.Request) (*llm.Completion, error) {
				return nil, errors.New("adapter broke the model")
			}), nil
		}
		return policyBy(func(_ int, seed int64) bool { return seed%2 == 0 })(ctx, dir, version)
	}
	st, fb := runWith(t, modelCode, agent.ModeWeights, 3, broken, fakeTrainer{})
	if st.BestGen != 1 || len(fb.ins) < 2 || st.Gens[1].Action != agent.ActionWeights || st.Gens[1].Score != 0 {
		t.Fatalf("want gen 2 a rejected weights gen, got best %d, gens %+v", st.BestGen, st.Gens)
	}
	first, after := fb.ins[0].Stats, fb.ins[1].Stats
	if after.N != first.N || after.TokenSamples != first.TokenSamples || after.Mean != first.Mean || fb.ins[1].Recommended != fb.ins[0].Recommended {
		t.Errorf("after the rejected gen 2 the stats are %+v (%s), the incumbent's %+v (%s)",
			after, fb.ins[1].Recommended, first, fb.ins[0].Recommended)
	}
	if first.TokenSamples == 0 || first.Variance == 0 {
		t.Errorf("the incumbent's rollouts should carry tokens and spread: %+v", first)
	}
}

// TestNothingToLearnMeansNoWeights: with no token ids (a harness that never
// calls the model), or with rewards that are all equal, no algorithm is
// recommended and the weights lever is not offered.
func TestNothingToLearnMeansNoWeights(t *testing.T) {
	always0 := policyBy(func(int, int64) bool { return false })
	for _, tc := range []struct{ name, code string }{
		{"no token ids", knobCode},
		{"all-zero rewards", modelCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, fb := runWith(t, tc.code, agent.ModeAuto, 2, always0, fakeTrainer{})
			if len(fb.ins) == 0 {
				t.Fatal("the feedback agent was never asked")
			}
			in := fb.ins[0]
			if in.CanTrain || in.Recommended != "" {
				t.Errorf("can_train %v, recommended %q (stats %+v); want false and none", in.CanTrain, in.Recommended, in.Stats)
			}
		})
	}
}

// refusingTrainer trains (as fakeTrainer) only from the base, and refuses
// every update that starts from an adapter: nothing to train.
type refusingTrainer struct{ fakeTrainer }

func (r refusingTrainer) Train(ctx context.Context, req train.Request) (*train.Result, error) {
	if req.ParentVersion > 0 || req.Gen > 2 {
		return nil, fmt.Errorf("fake: %w", train.ErrNothingToTrain)
	}
	return r.fakeTrainer.Train(ctx, req)
}

// TestRefusedUpdateIsLogged: an update with nothing to train writes no new
// adapter version; the generation keeps the adapter so far, the event says
// it was refused, and the run goes on.
func TestRefusedUpdateIsLogged(t *testing.T) {
	st, _, runDir := runWithCfg(t, modelCode, agent.ModeWeights, 3, fakePolicy, refusingTrainer{}, func(c *Config) { c.TrainRounds = 2 })
	if !st.Finished || len(st.Gens) != 3 {
		t.Fatalf("run did not go on: %+v", st)
	}
	// Gen 2: round 1 trains v1 from the base, round 2 (from v1) is refused:
	// gen 2 keeps round 1's adapter. Gen 3: refused in round 1.
	g2, g3 := st.Gens[1], st.Gens[2]
	if g2.AdapterVersion != 1 || g2.AdapterDir != filepath.Join("gen_2", "rounds", "1") {
		t.Errorf("gen 2 serves v%d from %q, want v1 from round 1", g2.AdapterVersion, g2.AdapterDir)
	}
	parent := st.Gen(g3.Parent)
	if g3.AdapterVersion != parent.AdapterVersion || g3.AdapterDir != parent.AdapterDir {
		t.Errorf("gen 3 serves v%d %q, want its parent's v%d %q", g3.AdapterVersion, g3.AdapterDir, parent.AdapterVersion, parent.AdapterDir)
	}
	for _, gen := range []string{"gen_2", "gen_3"} {
		if _, err := os.Stat(filepath.Join(runDir, gen, "adapter")); err == nil {
			t.Errorf("%s/adapter written for a refused update", gen)
		}
	}
	b, err := os.ReadFile(filepath.Join(runDir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "update refused in round"); n != 2 {
		t.Errorf("%d refusals in events.jsonl, want 2:\n%s", n, b)
	}
}

// meteringTrainer is fakeTrainer that also measures KL to the base: 0.25
// nats per token for any adapter, and records what it was asked.
type meteringTrainer struct {
	fakeTrainer
	mu    *sync.Mutex
	asked *[]string
}

func (m meteringTrainer) KLToBase(_ context.Context, dir string, calls []reward.Call) ([]float64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]float64, len(calls))
	for i, c := range calls {
		if c.AdapterVersion == 0 {
			return nil, fmt.Errorf("call %s/%d was not sampled from an adapter", c.Item, c.Sample)
		}
		out[i] = 0.25
	}
	*m.asked = append(*m.asked, dir)
	return out, nil
}

// TestKLToBaseIsMeasuredOnTheIncumbent: once a weights generation is the
// incumbent, the statistics' kl_to_base is the trainer's measurement of
// that adapter on the tokens it sampled; for the base it is 0.
func TestKLToBaseIsMeasuredOnTheIncumbent(t *testing.T) {
	var asked []string
	st, fb, runDir := runWithCfg(t, modelCode, agent.ModeWeights, 3, fakePolicy, meteringTrainer{mu: &sync.Mutex{}, asked: &asked}, nil)
	if st.Gens[1].Action != agent.ActionWeights || len(fb.ins) < 2 {
		t.Fatalf("gens %+v", st.Gens)
	}
	if st.BestGen < 2 {
		t.Fatalf("no weights generation became the incumbent: %+v", st.Gens)
	}
	if kl := fb.ins[0].Stats.KLToBase; kl != 0 {
		t.Errorf("the base's kl_to_base %v, want 0", kl)
	}
	if kl := fb.ins[1].Stats.KLToBase; kl != 0.25 {
		t.Errorf("after gen 2 became the incumbent kl_to_base is %v, want the measured 0.25", kl)
	}
	want := filepath.Join(runDir, st.Gens[1].AdapterDir)
	if len(asked) == 0 || asked[0] != want {
		t.Errorf("KL measured on %v, want %s first", asked, want)
	}
}
