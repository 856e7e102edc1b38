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
	dec, next, rankS, err := r.pick(ctx, gen+1, out)
	if err != nil {
		return err
	}
	if err := r.checkDecision(&dec, in, next); err != nil {
		return err
	}
	if dec.Action == agent.ActionWeights && in.Branch != nil {
		dec.Parent = in.Branch.Gen // cumulative training: continue the unproven branch
	}
	if err := r.d.Store.WriteJSON(runstore.GenFile(gen, runstore.FeedbackFile), dec); err != nil {
		return err
	}
	if dec.Action == agent.ActionStop {
		// No next generation: its folder goes, unless the agent left
		// notes there (Remove refuses a folder that is not empty).
		_ = os.Remove(in.GenDir)
	}
	if dec.Action != agent.ActionStop {
		if dec.Action == agent.ActionWeights {
			next = &in.Incumbent // a weights gen keeps the incumbent's harness
		}
		if err := r.writeHarness(gen+1, *next); err != nil {
			return err
		}
		if err := r.d.Store.WriteJSON(runstore.GenFile(gen+1, runstore.DecisionFile), dec); err != nil {
			return err
		}
		if err := r.d.Store.WriteFile(runstore.GenFile(gen+1, runstore.ImprovementFile), []byte(improvementMD(gen+1, dec))); err != nil {
			return err
		}
	}
	tokens, usd := cost.totals()
	if err := r.emit(runstore.Event{Type: runstore.EvDecided, Gen: gen, Action: dec.Action, Algorithm: dec.Algorithm,
		Rationale: dec.Rationale, Parent: dec.Parent, DurationS: since(start) - rankS, Tokens: tokens, CostUSD: usd}); err != nil { // ranking counts toward gen+1
		return err
	}
	if dec.Action == agent.ActionHarness {
		return r.announce(gen + 1)
	}
	return nil
}

// pick returns the decision and harness for generation next: the agent's,
// or, when it proposed several harnesses and --candidates asks for more
// than one, the winner of ranking them on slices of val (candidates.json).
// It also returns the seconds ranking took.
func (r *runner) pick(ctx context.Context, next int, out agent.FeedbackOutput) (agent.Decision, *harness.Source, float64, error) {
	props := r.proposals(out)
	if len(props) < 2 {
		return out.Decision, out.Harness, 0, r.removeCandidates(next)
	}
	f, err := r.rank(ctx, next, props)
	if err != nil {
		return agent.Decision{}, nil, 0, fmt.Errorf("rank candidates: %w", err)
	}
	if err := r.d.Store.WriteJSON(runstore.GenFile(next, runstore.CandidatesFile), f); err != nil {
		return agent.Decision{}, nil, 0, err
	}
	w := props[f.Winner]
	win := f.Candidates[f.Winner]
	dec := w.Decision
	dec.Ranked = &agent.Ranking{Candidates: len(props), Winner: f.Winner, Rounds: len(win.Rounds), Items: win.Items,
		Budget: f.Budget, Spent: f.Spent}
	dec.Rationale = fmt.Sprintf("%s (best of %d candidates by successive halving on val slices: %.4f on %d items; %d of %d solves; %s)",
		dec.Rationale, len(props), win.Score, win.Items, f.Spent, f.Budget, runstore.CandidatesFile)
	return dec, w.Harness, f.Seconds, nil
}

// proposals are the harness proposals to rank: the agent's choice first,
// then its alternatives, distinct, at most --candidates.
func (r *runner) proposals(out agent.FeedbackOutput) []agent.FeedbackOutput {
	if r.cfg.Candidates < 2 || out.Decision.Action != agent.ActionHarness || out.Harness == nil {
		return nil
	}
	props := []agent.FeedbackOutput{out}
	seen := map[string]bool{out.Harness.SHA(): true}
	for _, a := range out.Alternatives {
		if len(props) == r.cfg.Candidates {
			break
		}
		if a.Decision.Action != agent.ActionHarness || a.Harness == nil || seen[a.Harness.SHA()] {
			continue
		}
		seen[a.Harness.SHA()] = true
		props = append(props, a)
	}
	return props
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
	if err := r.d.Store.ReadJSON(runstore.GenFile(gen, runstore.ResultsFile), &res); err != nil {
		return agent.FeedbackInput{}, err
	}
	rolloutsFile := r.d.Store.Path(runstore.GenFile(gen, runstore.RolloutsFile))
	if _, err := trajectory.StatPath(rolloutsFile); err != nil {
		return agent.FeedbackInput{}, err
	}
	// A weight update starts from the incumbent (or continues an unproven
	// branch of it that gained), so the reward shape it is chosen by is
	// that policy's, not that of the generation just verified (which may be
	// a rejected, damaged adapter).
	branch := r.branch()
	from := r.st.BestGen
	if branch != nil {
		from = branch.Gen
	}
	stats, err := r.rewardStats(ctx, from)
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
		Higher: r.higher, Results: &res, RolloutsFile: rolloutsFile, Stats: stats, Recommended: rec,
		ForcedAlgorithm: r.cfg.Algorithm, CanTrain: canTrain, RemainingGens: r.cfg.MaxGen - gen,
		GenDir: r.d.Store.GenDir(gen + 1), Seed: r.cfg.Seed + int64(gen),
		Public: r.agentView(), Docs: r.d.Docs,
		IncumbentGen: r.st.BestGen, Branch: branch, LeverChoice: r.cfg.LeverChoice, Returns: r.returns(),
		Candidates: r.cfg.Candidates, Ranked: r.rankedCandidates(gen),
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
	var opts reward.Options
	if o, ok := r.d.Trainer.(rewardOptioner); ok {
		opts = o.RewardOptions()
	}
	// Streamed: the batch keeps the trainable calls and a sample per
	// rollout, not the trajectories.
	c := reward.NewCollector(opts)
	if err := trajectory.EachPath(r.d.Store.Path(runstore.GenFile(gen, runstore.RolloutsFile)), func(t *trajectory.Trajectory) error {
		c.Add(t)
		return nil
	}); err != nil {
		return rl.Stats{}, err
	}
	b := c.Batch()
	var kl []float64
	if g := r.st.Gen(gen); g != nil && g.AdapterVersion > 0 && g.AdapterDir != "" && len(b.Groups) > 0 {
		if m, ok := r.d.Trainer.(klMeter); ok && !strings.Contains(g.AdapterDir, "://") {
			dir := g.AdapterDir
			if !filepath.IsAbs(dir) {
				dir = r.d.Store.Path(dir)
			}
			var err error
			if kl, err = m.KLToBase(ctx, dir, b.Calls()); err != nil {
				return rl.Stats{}, fmt.Errorf("kl to base of gen %d's adapter: %w", gen, err)
			}
		}
	}
	return b.Stats(reward.Params{}, kl)
}
