package backend

import (
	"context"
	"fmt"
	"github.com/sia-agent/sia/sandbox"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/budget"
	"github.com/sia-agent/sia/gateway"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/python"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/profile"
	"github.com/sia-agent/sia/train"
)

// Set is a run's backends. Build makes it; nothing changes it after, so
// every reader sees the same runtime, agents, policy and trainer.
type Set struct {
	runtime    harness.Runtime
	evaluator  *sandbox.Sandbox // where the task's evaluate.py runs; nil when it has none
	scratchDir string
	meta       agent.Meta
	feedback   agent.Feedback
	policy     loop.PolicyFactory
	trainer    train.Trainer
	gateway    *gateway.Gateway
	gatewayURL string
	spend      *budget.Budget
	limits     budget.Limits
	closers    []func()
}

// Build resolves o into a Set. Every configuration error (an unknown
// profile, a missing API key, a --trainer the target cannot use, --mode
// weights without a trainer) surfaces here, before any work. The caller
// closes the Set.
func Build(ctx context.Context, o Options) (_ *Set, err error) {
	if o.Task == nil || o.Data == nil {
		return nil, fmt.Errorf("backend: no task")
	}
	s := &Set{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.runtime, err = newRuntime(ctx, &o); err != nil {
		return nil, err
	}
	if _, ok := s.runtime.(*python.Runtime); ok {
		s.scratchDir = o.ScratchDir
	}
	if s.evaluator, err = EvaluatorSandbox(ctx, o.Task, s.runtime, string(o.Sandbox), func(line string) { o.notify("%s", line) }); err != nil {
		return nil, err
	}
	prices, err := budget.LoadPrices(o.ConfigDir) // bundled, plus the user's prices.json if any
	if err != nil {
		return nil, err
	}
	spend, err := budget.New(o.Budget, prices)
	if err != nil {
		return nil, err
	}
	s.spend, s.limits = spend, o.Budget
	profiles := &profile.Loader{UserDir: o.ConfigDir, ProfilesDir: o.ProfilesDir, ProvidersDir: o.ProvidersDir}
	popts := []profile.Option{profile.WithLoader(profiles), profile.WithNotify(func(line string) { o.notify("%s", line) })}
	if s.meta, s.feedback, err = newAgents(ctx, &o, profiles, popts, spend); err != nil {
		return nil, err
	}
	tgt, err := openTarget(ctx, &o, profiles, popts, spend)
	if err != nil {
		return nil, err
	}
	s.policy, s.trainer = tgt.policy, tgt.trainer
	if err := loop.CheckTrainer(o.Mode, s.trainer != nil); err != nil {
		return nil, fmt.Errorf("%w, and target profile %q has none (use --trainer, or --mode auto)", err, o.TargetProfile)
	}

	// The gateway serves the task model to out-of-process harnesses.
	s.gateway = gateway.New(gateway.Config{Run: o.RunID, Logger: o.GatewayLog})
	gctx, cancel := context.WithCancel(ctx)
	s.closers = append(s.closers, cancel)
	if s.gatewayURL, err = s.gateway.Serve(gctx, "127.0.0.1:0"); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops what Build started (the gateway), last first.
func (s *Set) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// Deps returns d with the Set's collaborators filled in: the runtime,
// agents, trainer, policy and gateway. The caller gives the rest (task,
// data, store, progress, docs).
func (s *Set) Deps(d loop.Deps) loop.Deps {
	d.Runtime, d.Meta, d.Feedback = s.runtime, s.meta, s.feedback
	d.Trainer, d.Policy = s.trainer, s.policy
	d.Gateway, d.GatewayURL = s.gateway, s.gatewayURL
	d.Spend = func() agent.Budget {
		u := s.spend.Spent()
		return agent.Budget{SpentTokens: u.PromptTokens + u.CompletionTokens, SpentUSD: u.CostUSD,
			LimitTokens: s.limits.Tokens, LimitUSD: s.limits.USD}
	}
	return d
}

// ScratchDir is the folder python harnesses make their working folders in
// (Options.ScratchDir), "" when the runtime makes none. The caller creates
// it before the run and removes it after.
func (s *Set) ScratchDir() string { return s.scratchDir }

// Evaluator is the sandbox the task's evaluate.py runs in, nil when the
// task is scored by a Go verifier.
func (s *Set) Evaluator() *sandbox.Sandbox { return s.evaluator }

// HasTrainer reports whether the weights lever has a trainer.
func (s *Set) HasTrainer() bool { return s.trainer != nil }
