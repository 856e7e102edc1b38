package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/train"
)

// backends are the loop's collaborators built from the run's profiles.
type backends struct {
	runtime  harness.Runtime
	meta     agent.Meta
	feedback agent.Feedback
	policy   loop.PolicyFactory
	trainer  train.Trainer
	closers  []func()
}

func (b *backends) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// buildBackends resolves profiles into models, agents and a trainer. Every
// configuration error (unknown profile, missing API key) surfaces here,
// before any work.
func (a *app) buildBackends(ctx context.Context, o *runOptions, t *task.Task, data *task.Dataset) (*backends, error) {
	be := &backends{}
	rt, err := newRuntime(t.Spec.Runtime)
	if err != nil {
		return nil, err
	}
	be.runtime = rt
	switch o.MetaProfile {
	case "builtin", "":
		be.meta, be.feedback = builtin.Meta{}, builtin.Feedback{}
	default:
		return nil, fmt.Errorf("--meta-profile %q: LLM agents are not wired yet", o.MetaProfile)
	}
	switch o.TargetProfile {
	case "embedded", "":
		et := newEmbeddedTarget(t, data, a.modelCacheDir(), a.streams.Err)
		be.policy = et.policy
		switch o.Trainer {
		case "auto", "embedded":
			be.trainer = et
		case "none":
		default:
			return nil, fmt.Errorf("--trainer %s is for remote targets; the embedded target trains with --trainer embedded", o.Trainer)
		}
	default:
		return nil, fmt.Errorf("--target-profile %q: remote targets are not wired yet", o.TargetProfile)
	}
	return be, nil
}

// modelCacheDir holds pretrained embedded base models.
func (a *app) modelCacheDir() string { return filepath.Join(a.env.CacheDir(), "models") }

// newRuntime returns the harness runtime for a task.
func newRuntime(kind string) (harness.Runtime, error) {
	switch kind {
	case "starlark":
		return starlark.New(starlark.Config{}), nil
	}
	return nil, fmt.Errorf("harness runtime %q is not available yet", kind)
}

// registry returns the bundled tasks.
func registry() (*task.Registry, error) { return bundled.Registry() }
