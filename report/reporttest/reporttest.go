// Package reporttest makes small but real run folders for the tests of the
// packages that read them (report, report/plot, web, internal/cli). A run
// is the real loop (loop.Run) on the bundled demo task, with the demo's
// pretrained base model from task/bundled/demo/testdata as the task model,
// the Starlark runtime, the embedded trainer and a scripted Feedback-Agent,
// so every file a run folder can hold is there and its numbers are
// measured, not written by hand: a harness edit (source and knobs), a
// weight update with its training curve, rollouts with model calls, and a
// held-out test score.
package reporttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/train"
	trainembedded "github.com/sia-agent/sia/train/embedded"
)

// Options shape a run. The zero value makes run_1 with three generations
// (initial, a harness edit, a weight update) and the test score.
type Options struct {
	RunID  string // default "1"
	MaxGen int    // default 3
	Seed   int64  // default 1
	// Script is the Feedback-Agent's action after each generation, in order
	// ("harness", "weights" or "stop"); past its end it stops. Default:
	// harness, then weights.
	Script []string
}

func (o *Options) applyDefaults() {
	if o.RunID == "" {
		o.RunID = "1"
	}
	if o.MaxGen == 0 {
		o.MaxGen = 3
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Script == nil {
		o.Script = []string{agent.ActionHarness, agent.ActionWeights}
	}
}

// EditedLine is the line the scripted harness edit adds to the demo's
// reference harness; a harness diff between gen 1 and gen 2 shows it.
const EditedLine = "# reporttest: the scripted Feedback-Agent asks for longer answers"

// BasePath is the demo's pretrained base checkpoint in this repository.
func BasePath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("reporttest: cannot locate the source tree")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", "task", "bundled", "demo", "testdata", "base.safetensors")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("reporttest: demo base: %w", err)
	}
	return p, nil
}

var (
	baseOnce sync.Once
	baseM    *tinylm.Model
	basePath string
	baseErr  error
)

// base loads the demo base once per test binary: it is read-only.
func base() (*tinylm.Model, string, error) {
	baseOnce.Do(func() {
		basePath, baseErr = BasePath()
		if baseErr == nil {
			baseM, baseErr = tinylm.Load(basePath)
		}
	})
	return baseM, basePath, baseErr
}

// MakeRun runs the loop into runsDir/run_<id>/ (runstore.RunDirName) and
// returns that folder.
func MakeRun(ctx context.Context, runsDir string, o Options) (string, error) {
	o.applyDefaults()
	dir := filepath.Join(runsDir, runstore.RunDirName(o.RunID))
	store, err := runstore.Create(dir, nil)
	if err != nil {
		return "", err
	}
	defer store.Close()
	return dir, run(ctx, store, nil, o)
}

// Resume continues (and, with a larger MaxGen, extends) a run MakeRun made.
func Resume(ctx context.Context, dir string, o Options) error {
	o.applyDefaults()
	store, events, err := runstore.Open(dir)
	if err != nil {
		return err
	}
	defer store.Close()
	var prev loop.Config
	if err := store.ReadConfig(&prev); err != nil {
		return err
	}
	if o.MaxGen > prev.MaxGen {
		if events, err = loop.Extend(store, events, o.MaxGen); err != nil {
			return err
		}
		prev.MaxGen = o.MaxGen
		if err := store.WriteConfig(prev); err != nil {
			return err
		}
	}
	return run(ctx, store, events, o)
}

func run(ctx context.Context, store *runstore.Store, events []runstore.Event, o Options) error {
	m, path, err := base()
	if err != nil {
		return err
	}
	reg, err := bundled.Registry()
	if err != nil {
		return err
	}
	tk, err := reg.Open("demo", task.Options{})
	if err != nil {
		return err
	}
	data, err := tk.Load(ctx)
	if err != nil {
		return err
	}
	cfg := loop.Config{RunID: o.RunID, Task: "demo", MaxGen: o.MaxGen, Mode: agent.ModeAuto, Samples: 1, Parallel: 2,
		Seed: o.Seed, TrainItems: 16, TrainSamples: 2, TrainRounds: 1, Metric: tk.Spec.Metric,
		HigherIsBetter: tk.Spec.HigherIsBetter(), MetaProfile: "builtin", TargetProfile: "embedded", Trainer: "embedded"}
	cfg = cfg.WithDefaults()
	if len(events) == 0 {
		if err := store.WriteConfig(cfg); err != nil {
			return err
		}
	}
	tr, err := trainembedded.New(m, path, trainembedded.Config{MinibatchSeqs: 8, Epochs: 2})
	if err != nil {
		return err
	}
	_, err = loop.Run(ctx, cfg, loop.Deps{
		Task: tk, Data: data, Runtime: starlark.New(starlark.Config{}),
		Meta: builtin.Meta{}, Feedback: scripted{script: o.Script},
		Trainer: tr, Policy: policy(m), Store: store,
	}, events)
	return err
}

// policy serves the base with a generation's adapter.
func policy(m *tinylm.Model) loop.PolicyFactory {
	return func(_ context.Context, adapterDir string, version int) (llm.Model, error) {
		em, err := embedded.New(m, embedded.Config{})
		if err != nil {
			return nil, err
		}
		if adapterDir == "" {
			return em, nil
		}
		a, err := tinylm.LoadPEFT(adapterDir, m)
		if err != nil {
			return nil, err
		}
		return em.WithAdapter(a, version), nil
	}
}

// scripted is a Feedback-Agent that follows a fixed list of actions. Its
// harness edit changes the source (a comment and a longer max_tokens) and
// a knob, so a diff has both.
type scripted struct{ script []string }

func (s scripted) Decide(_ context.Context, in agent.FeedbackInput) (agent.FeedbackOutput, error) {
	action := agent.ActionStop
	if in.Gen-1 < len(s.script) {
		action = s.script[in.Gen-1]
	}
	d := agent.Decision{Action: action,
		Rationale:  fmt.Sprintf("scripted: %s after gen %d (val %.4f)", action, in.Gen, in.Results.Score),
		Hypothesis: "the scripted step " + action, Evidence: fmt.Sprintf("%d val items scored", in.Results.N),
		Change: action, Expected: "a different val score", Risk: "none: a test fixture"}
	out := agent.FeedbackOutput{Decision: d}
	if action == agent.ActionHarness {
		code := string(in.Incumbent.Code)
		if !strings.Contains(code, "max_tokens = 12") {
			return out, errors.New("reporttest: the demo harness changed: no max_tokens = 12 to edit")
		}
		code = strings.Replace(code, "max_tokens = 12", "max_tokens = 14", 1)
		code = strings.Replace(code, "def solve(", EditedLine+"\ndef solve(", 1)
		knobs := map[string]any{}
		for k, v := range in.Incumbent.Knobs {
			knobs[k] = v
		}
		knobs["variant"] = "fill"
		out.Harness = &harness.Source{Name: in.Incumbent.Name, Code: []byte(code), Knobs: knobs}
	}
	return out, nil
}

var _ train.Trainer = (*trainembedded.Trainer)(nil)
