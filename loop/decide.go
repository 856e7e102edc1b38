package loop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/verify"
)

// decide asks the Feedback-Agent what to do after gen.
func (r *runner) decide(ctx context.Context, gen int) error {
	start := time.Now()
	r.progress(Progress{Kind: "step", Gen: gen, Step: "decide"})
	if err := r.scoreBaseline(ctx, false); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	in, err := r.feedbackInput(ctx, gen)
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

func (r *runner) feedbackInput(ctx context.Context, gen int) (agent.FeedbackInput, error) {
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
	// A weight update starts from the incumbent, so the reward shape it is
	// chosen by is the incumbent's, not that of the generation just
	// verified (which may be a rejected, damaged adapter).
	stats, err := r.rewardStats(ctx, r.st.BestGen)
	if err != nil {
		return agent.FeedbackInput{}, err
	}
	rec, _ := rl.Select(stats)
	alg := r.cfg.Algorithm
	if alg == "" {
		alg = rec
	}
	// The weights lever is offered only when the algorithm it would run has
	// something to train on.
	canTrain := r.d.Trainer != nil && r.cfg.Mode != agent.ModeHarness && r.d.Policy != nil &&
		alg != "" && stats.Units.Of(alg) > 0
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

// rewardOptioner is a trainer that can learn only from some model calls
// (the embedded one: those that fit its context).
type rewardOptioner interface {
	RewardOptions() reward.Options
}

// klMeter is a trainer that can measure how far an adapter moved the
// policy from the base, per call, on the tokens the adapter sampled.
type klMeter interface {
	KLToBase(ctx context.Context, adapterDir string, calls []reward.Call) ([]float64, error)
}

// rewardStats is the reward shape of gen's val rollouts as package reward
// sees them for this trainer: the credited per-call rewards every trainer
// learns from and each algorithm's training units. When the trainer can
// measure it, each call's KL of gen's adapter to the base is measured on
// the tokens that adapter sampled (0 for the base itself).
func (r *runner) rewardStats(ctx context.Context, gen int) (rl.Stats, error) {
	trajs, err := r.readTrajectories(genRel(gen, fileRollouts))
	if err != nil {
		return rl.Stats{}, err
	}
	var opts reward.Options
	if o, ok := r.d.Trainer.(rewardOptioner); ok {
		opts = o.RewardOptions()
	}
	b := reward.Collect(trajs, opts)
	var kl []float64
	if g := r.st.Gen(gen); g != nil && g.AdapterVersion > 0 && g.AdapterDir != "" && len(b.Groups) > 0 {
		if m, ok := r.d.Trainer.(klMeter); ok && !strings.Contains(g.AdapterDir, "://") {
			dir := g.AdapterDir
			if !filepath.IsAbs(dir) {
				dir = r.d.Store.Path(dir)
			}
			if kl, err = m.KLToBase(ctx, dir, b.Calls()); err != nil {
				return rl.Stats{}, fmt.Errorf("kl to base of gen %d's adapter: %w", gen, err)
			}
		}
	}
	return b.Stats(reward.Params{}, kl)
}
