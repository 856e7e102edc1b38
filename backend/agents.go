package backend

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/agent/llmagent"
	"github.com/sia-agent/sia/budget"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/profile"
	"github.com/sia-agent/sia/task"
)

// newAgents builds the Meta- and Feedback-Agents of --meta-profile, with
// SIA_EARLY_STOP_THRESHOLD around the Feedback-Agent and gen 1's harness
// taken from --harness or the target profile's agent_reference.
func newAgents(ctx context.Context, o *Options, profiles *profile.Loader, popts []profile.Option, spend *budget.Budget) (agent.Meta, agent.Feedback, error) {
	model, mp, err := profile.OpenMeta(ctx, o.MetaProfile, o.getenv, popts...)
	if err != nil {
		return nil, nil, fmt.Errorf("--meta-profile: %w", err)
	}
	var (
		meta     agent.Meta     = builtin.Meta{}
		feedback agent.Feedback = builtin.Feedback{}
	)
	if model != nil {
		priced := mp.ModelCanonicalName // SIA's vendor id, for the price table
		if prov, perr := profiles.MetaProvider(mp); priced == "" && perr == nil {
			priced = profile.ModelFor(mp.AgentImpl, prov, mp.Model)
		}
		if err := spend.Check(priced); err != nil {
			return nil, nil, fmt.Errorf("--budget-usd: %w", err)
		}
		cfg := llmagent.Config{Model: spend.Wrap(model, priced), OnEvent: o.AgentEvents, MaxTurns: o.AgentMaxTurns}
		m, err := llmagent.NewMeta(cfg)
		if err != nil {
			return nil, nil, err
		}
		f, err := llmagent.NewFeedback(cfg)
		if err != nil {
			return nil, nil, err
		}
		meta = m
		feedback = agent.Fallback{Primary: f, Secondary: builtin.Feedback{}, OnFallback: func(err error) {
			o.notify("the feedback agent did not decide (%v); the builtin agent decides this generation", err)
		}}
	}
	if o.EarlyStop != nil {
		feedback = earlyStop{Feedback: feedback, threshold: *o.EarlyStop}
	}
	if meta, err = firstHarness(o, profiles, meta); err != nil {
		return nil, nil, err
	}
	return meta, feedback, nil
}

// firstHarness decides where gen 1's harness comes from: the file --harness
// names, else the target profile's agent_reference as the Meta-Agent's
// seed, else the Meta-Agent working from the task's reference.
func firstHarness(o *Options, profiles *profile.Loader, meta agent.Meta) (agent.Meta, error) {
	t := o.Task
	if o.Harness != "" {
		src, err := harness.ReadSource(o.Harness)
		if err != nil {
			return nil, fmt.Errorf("--harness: %w", err)
		}
		given := builtin.Given{Source: src, From: o.Harness}
		if err := given.Fits(t.Spec.Name, t.Spec.Runtime); err != nil {
			return nil, err
		}
		return given, nil
	}
	tp, err := profiles.Target(o.TargetProfile)
	if err != nil {
		return nil, fmt.Errorf("--target-profile: %w", err)
	}
	seed, line, ok, err := referenceSeed(tp, t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return meta, nil
	}
	o.notify("%s", line)
	return seededMeta{Meta: meta, seed: seed}, nil
}

// referenceSeed returns the harness a target profile's agent_reference
// names, for the Meta-Agent to start from, with a line to show about it;
// ok is false for "default" (the task's own reference). A folder reference
// runs its entrypoint; its requirements.txt cannot be installed here (no
// package index), which the line says.
func referenceSeed(tp *profile.TargetProfile, t *task.Task) (src harness.Source, line string, ok bool, err error) {
	ref, err := tp.AgentReference.Locate(tp.Dir)
	if err != nil {
		return harness.Source{}, "", false, fmt.Errorf("target profile %q: %w", tp.ProfileID, err)
	}
	if ref.Kind == profile.RefDefault {
		return harness.Source{}, "", false, nil
	}
	src, err = harness.ReadSource(ref.Entrypoint)
	if err != nil {
		return harness.Source{}, "", false, fmt.Errorf("target profile %q agent_reference: %w", tp.ProfileID, err)
	}
	if want := harness.FileFor(t.Spec.Runtime); src.Name != want {
		return harness.Source{}, "", false, fmt.Errorf("target profile %q agent_reference %s is a %s, but task %q runs %s harnesses (%s)",
			tp.ProfileID, ref.Entrypoint, src.Name, t.Spec.Name, t.Spec.Runtime, want)
	}
	line = fmt.Sprintf("agent_reference %s is the Meta-Agent's seed harness", ref.Entrypoint)
	if ref.Requirements != "" {
		line += fmt.Sprintf("; its %s lists %s, which cannot be installed here (no package index): the harness runs with the Python packages already present",
			filepath.Base(ref.Requirements), strings.Join(ref.Packages, ", "))
	}
	if len(ref.Others) > 0 {
		line += fmt.Sprintf("; %d other file(s) of %s are not carried into the run (a harness is one file): %s",
			len(ref.Others), ref.Dir, strings.Join(ref.Others, ", "))
	}
	return src, line, true, nil
}

// seededMeta gives its Meta-Agent the profile's reference harness in place
// of the task's.
type seededMeta struct {
	agent.Meta
	seed harness.Source
}

// Initial implements agent.Meta.
func (m seededMeta) Initial(ctx context.Context, in agent.MetaInput) (harness.Source, error) {
	in.Reference = m.seed
	return m.Meta.Initial(ctx, in)
}

var _ loop.ReferenceSeeder = seededMeta{}

// Reference implements loop.ReferenceSeeder: the run's baseline is the
// seed, the harness the Meta-Agent starts from.
func (m seededMeta) Reference() harness.Source { return m.seed }

// earlyStop ends the run once the incumbent's val score reaches a
// threshold (SIA_EARLY_STOP_THRESHOLD: at or above it, or at or below it
// for a lower-is-better metric); until then its Feedback-Agent decides.
type earlyStop struct {
	agent.Feedback
	threshold float64
}

// Decide implements agent.Feedback.
func (e earlyStop) Decide(ctx context.Context, in agent.FeedbackInput) (agent.FeedbackOutput, error) {
	best, ok := incumbentScore(in)
	if ok && ((in.Higher && best >= e.threshold) || (!in.Higher && best <= e.threshold)) {
		return agent.FeedbackOutput{Decision: agent.Decision{Action: agent.ActionStop,
			Rationale: fmt.Sprintf("SIA_EARLY_STOP_THRESHOLD=%g: the incumbent's val score %.4g reached it", e.threshold, best)}}, nil
	}
	return e.Feedback.Decide(ctx, in)
}

// incumbentScore is the best val score so far.
func incumbentScore(in agent.FeedbackInput) (float64, bool) {
	if len(in.History) == 0 {
		return 0, false
	}
	best := in.History[0].Score
	for _, g := range in.History[1:] {
		if (in.Higher && g.Score > best) || (!in.Higher && g.Score < best) {
			best = g.Score
		}
	}
	return best, true
}
