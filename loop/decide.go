package loop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// decide asks the Feedback-Agent what to do after gen.
func (r *runner) decide(ctx context.Context, gen int) error {
	start := time.Now()
	r.progress(Progress{Kind: "step", Gen: gen, Step: "decide"})
	if err := r.scoreBaseline(ctx, false); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	in, err := r.feedbackInput(gen)
	if err != nil {
		return err
	}
	cost := &measureCost{}
	in.Measure = r.measureFunc(gen+1, cost)
	if err := os.MkdirAll(in.GenDir, 0o755); err != nil {
		return err
	}
	out, err := r.d.Feedback.Decide(ctx, in)
	if err != nil {
		return fmt.Errorf("feedback-agent: %w", err)
	}
	dec := out.Decision
	if err := r.checkDecision(&dec, in, out.Harness); err != nil {
		return err
	}
	if err := r.d.Store.WriteJSON(genRel(gen, fileFeedback), dec); err != nil {
		return err
	}
	if dec.Action != agent.ActionStop {
		next := out.Harness
		if dec.Action == agent.ActionWeights {
			next = &in.Incumbent // a weights gen keeps the incumbent's harness
		}
		if err := r.writeHarness(gen+1, *next); err != nil {
			return err
		}
		if err := r.d.Store.WriteJSON(genRel(gen+1, fileDecision), dec); err != nil {
			return err
		}
		if err := r.d.Store.WriteFile(genRel(gen+1, fileImprovement), []byte(improvementMD(gen+1, dec))); err != nil {
			return err
		}
	}
	tokens, usd := cost.totals()
	if err := r.emit(runstore.Event{Type: runstore.EvDecided, Gen: gen, Action: dec.Action, Algorithm: dec.Algorithm,
		Rationale: dec.Rationale, DurationS: since(start), Tokens: tokens, CostUSD: usd}); err != nil {
		return err
	}
	if dec.Action == agent.ActionHarness {
		return r.announce(gen + 1)
	}
	return nil
}

// checkDecision enforces the mode and fills the algorithm.
func (r *runner) checkDecision(d *agent.Decision, in agent.FeedbackInput, h *harness.Source) error {
	d.RewardStats, d.Recommended = in.Stats, in.Recommended
	switch d.Action {
	case agent.ActionStop:
	case agent.ActionHarness:
		if r.cfg.Mode == agent.ModeWeights {
			return fmt.Errorf("feedback-agent chose the harness lever in --mode weights")
		}
		if h == nil {
			return fmt.Errorf("feedback-agent chose the harness lever but wrote no harness")
		}
	case agent.ActionWeights:
		if !in.CanTrain {
			return fmt.Errorf("feedback-agent chose the weights lever, which is not available here (mode %s)", r.cfg.Mode)
		}
		switch {
		case r.cfg.Algorithm != "":
			d.Algorithm = r.cfg.Algorithm
		case d.Algorithm == "":
			d.Algorithm = in.Recommended
		}
		if _, err := rl.ParseAlgorithm(string(d.Algorithm)); err != nil {
			return fmt.Errorf("feedback-agent: %w", err)
		}
	default:
		return fmt.Errorf("feedback-agent chose unknown action %q", d.Action)
	}
	return nil
}

func (r *runner) feedbackInput(gen int) (agent.FeedbackInput, error) {
	doc, _ := r.d.Task.Doc()
	cur, err := r.readHarness(gen)
	if err != nil {
		return agent.FeedbackInput{}, err
	}
	inc, err := r.readHarness(r.st.BestGen)
	if err != nil {
		return agent.FeedbackInput{}, err
	}
	var decl harness.Decl
	if ins, ok := r.d.Runtime.(harness.Inspector); ok {
		if decl, err = ins.Inspect(inc); err != nil {
			decl = harness.Decl{}
		}
	}
	var res verify.Result
	if err := r.d.Store.ReadJSON(genRel(gen, fileResults), &res); err != nil {
		return agent.FeedbackInput{}, err
	}
	trajs, err := r.readTrajectories(genRel(gen, fileRollouts))
	if err != nil {
		return agent.FeedbackInput{}, err
	}
	stats := rl.ComputeStats(rewardSamples(trajs))
	stats.KLToBase = r.lastKL()
	rec, _ := rl.Select(stats)
	canTrain := r.d.Trainer != nil && r.cfg.Mode != agent.ModeHarness && r.d.Policy != nil
	in := agent.FeedbackInput{
		TaskName: r.d.Task.Spec.Name, TaskDoc: doc, Mode: r.cfg.Mode, Gen: gen,
		Current: cur, Incumbent: inc, Decl: decl,
		Higher: r.higher, Results: &res, Rollouts: trajs, Stats: stats, Recommended: rec,
		ForcedAlgorithm: r.cfg.Algorithm, CanTrain: canTrain, RemainingGens: r.cfg.MaxGen - gen,
		GenDir: r.d.Store.GenDir(gen + 1), Seed: r.cfg.Seed + int64(gen),
		Public: r.agentView(), Docs: r.d.Docs,
	}
	return in, r.addFeedbackContext(&in)
}

// rewardSamples turns trajectories into rl's gold-free view: one sample per
// model call that carries token ids and logprobs (what a trainer learns
// from), so a harness that votes over n completions shows n samples per
// item and their spread. A call's reward is its trajectory's, except that a
// completion disagreeing with a correct final answer gets 0 ("agreement"
// credit, as the embedded trainer assigns it). A rollout with no such call
// is one sample without tokens.
func rewardSamples(ts []trajectory.Trajectory) []rl.Sample {
	var out []rl.Sample
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
	for _, t := range ts {
		failed := t.Status == verify.StatusError || t.Status == verify.StatusInvalid || t.Status == verify.StatusMissing
		answer := norm(t.Answer)
		n := 0
		for _, st := range t.Steps {
			if st.Kind != trajectory.KindModel || len(st.CompletionTokenIDs) == 0 || len(st.Logprobs) != len(st.CompletionTokenIDs) {
				continue
			}
			n++
			reward := t.Reward
			if answer != "" && reward >= rl.SuccessThreshold && !strings.Contains(norm(st.Completion), answer) {
				reward = 0
			}
			out = append(out, rl.Sample{Item: t.Item, Reward: reward, Failed: failed, HasTokens: true})
		}
		if n == 0 {
			out = append(out, rl.Sample{Item: t.Item, Reward: t.Reward, Failed: failed})
		}
	}
	return out
}

// lastKL is the KL to the base that the trainer reported at the end of the
// update that made the incumbent's adapter (0 for the base): the drift signal
// of the rule table.
func (r *runner) lastKL() float64 {
	best := r.st.Gen(r.st.BestGen)
	if best == nil || best.AdapterVersion == 0 {
		return 0
	}
	for _, g := range r.st.Gens {
		if g.Action != agent.ActionWeights || g.AdapterVersion != best.AdapterVersion {
			continue
		}
		b, err := os.ReadFile(r.d.Store.Path(genRel(g.Gen, fileTrainLog)))
		if err != nil {
			return 0
		}
		lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
		var m struct {
			KL float64 `json:"kl"`
		}
		if json.Unmarshal(lines[len(lines)-1], &m) == nil {
			return m.KL
		}
	}
	return 0
}
