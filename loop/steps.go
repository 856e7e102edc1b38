package loop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/dataview"
	"github.com/sia-agent/sia/gateway"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rollout"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
)

// meta asks the Meta-Agent for the first harness.
func (r *runner) meta(ctx context.Context) error {
	start := time.Now()
	r.progress(Progress{Kind: "step", Gen: 1, Step: "meta"})
	name, code, err := r.d.Task.ReferenceHarness()
	if err != nil {
		return err
	}
	doc, err := r.d.Task.Doc()
	if err != nil {
		return err
	}
	genDir := r.d.Store.GenDir(1)
	if err := os.MkdirAll(genDir, 0o755); err != nil {
		return err
	}
	cost := &measureCost{}
	src, err := r.d.Meta.Initial(ctx, agent.MetaInput{
		TaskName:  r.d.Task.Spec.Name,
		TaskDoc:   doc,
		Reference: harness.Source{Name: name, Code: code},
		Runtime:   r.d.Task.Spec.Runtime,
		GenDir:    genDir,
		Measure:   r.measureFunc(1, cost),
		TrainSize: len(r.d.Data.Train),
		Public:    r.agentView(),
		Docs:      r.d.Docs,

		SampleTasks: r.d.Task.SampleTasks(), SampleExecution: r.d.Task.SampleExecution(),
	})
	if err != nil {
		return fmt.Errorf("meta-agent: %w", err)
	}
	if err := r.writeHarness(1, src); err != nil {
		return err
	}
	if err := r.d.Store.WriteJSON(runstore.GenFile(1, runstore.DecisionFile), agent.Decision{Action: "initial",
		Rationale: fmt.Sprintf("meta-agent wrote the first harness (%.1fs)", since(start))}); err != nil {
		return err
	}
	tokens, usd := cost.totals()
	return r.emit(runstore.Event{Type: runstore.EvHarnessReady, Gen: 1, HarnessSHA: src.SHA(), Source: "meta",
		Tokens: tokens, CostUSD: usd, DurationS: since(start)})
}

// announce records a harness the Feedback-Agent's decision wrote to disk,
// with what ranking it among other candidates cost (candidates.json).
func (r *runner) announce(gen int) error {
	src, err := r.readHarness(gen)
	if err != nil {
		return err
	}
	e := runstore.Event{Type: runstore.EvHarnessReady, Gen: gen, HarnessSHA: src.SHA(), Source: "feedback"}
	var f candidatesFile
	if err := r.d.Store.ReadJSON(runstore.GenFile(gen, runstore.CandidatesFile), &f); err == nil {
		e.Tokens, e.CostUSD, e.DurationS = f.Tokens, f.CostUSD, f.Seconds
	}
	return r.emit(e)
}

// load loads gen's harness, to solve items, over the model serving its
// adapter. A harness that fails to load is not fatal: the rollout records
// every item as an error, and the loop moves on.
func (r *runner) load(ctx context.Context, gen int, items []task.Item) (harness.Harness, harness.Source, error) {
	g := r.st.Gen(gen)
	src, err := r.readHarness(gen)
	if err != nil {
		return nil, src, err
	}
	var lines []string
	h, err := r.loadLogged(ctx, src, g.AdapterDir, g.AdapterVersion, items, func(l string) { lines = append(lines, l) })
	if b, ok := h.(brokenHarness); ok {
		lines = append(lines, b.err.Error())
	}
	if werr := r.d.Store.WriteFile(runstore.GenFile(gen, runstore.SetupLogFile), []byte(strings.Join(append(lines, ""), "\n"))); werr != nil && err == nil {
		err = werr
	}
	return h, src, err
}

// loadWith loads src, to solve items, over the model serving an adapter.
func (r *runner) loadWith(ctx context.Context, src harness.Source, adapterDir string, version int, items []task.Item) (harness.Harness, error) {
	return r.loadLogged(ctx, src, adapterDir, version, items, nil)
}

// loadLogged is loadWith that hands the harness's setup log lines to
// setupLog (nil: the runtime's default).
func (r *runner) loadLogged(ctx context.Context, src harness.Source, adapterDir string, version int, items []task.Item, setupLog func(string)) (harness.Harness, error) {
	env, err := r.env(ctx, adapterDir, version, src, items)
	if err != nil {
		return nil, err
	}
	env.SetupLog = setupLog
	h, err := r.d.Runtime.Load(ctx, src, env)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return brokenHarness{err: fmt.Errorf("harness load: %w", err)}, nil
	}
	return h, nil
}

// env is what a harness solving items may reach: the task's data view
// for those items (no held-out row, no label of what it solves), the
// model, and the gateway.
func (r *runner) env(ctx context.Context, adapterDir string, version int, src harness.Source, items []task.Item) (harness.Env, error) {
	doc, _ := r.d.Task.Doc()
	view, err := r.view.View(dataview.Request{Solving: items})
	if err != nil {
		return harness.Env{}, err
	}
	env := harness.Env{TaskDoc: doc, Train: view.Train, Public: view.Files, Seed: r.cfg.Seed}
	if r.d.Policy != nil {
		if adapterDir != "" && !filepath.IsAbs(adapterDir) {
			adapterDir = r.d.Store.Path(adapterDir)
		}
		m, err := r.d.Policy(ctx, adapterDir, version)
		if err != nil {
			return env, fmt.Errorf("task model: %w", err)
		}
		if w, ok := m.(Warmer); ok && usesModel(src) {
			switch {
			case r.warm.done.Load(): // prepared earlier in this process
			case r.warm.lazyFor(ctx, src):
				m = r.warm.coldGuard(m) // see warm.go
			default:
				// Slow one-time work (pretraining a base) happens here, under
				// the run's context, not inside an item's timeout.
				r.progress(Progress{Kind: "step", Step: "warm", Text: "preparing the task model"})
				if err := w.Warm(ctx); err != nil {
					return env, fmt.Errorf("task model: %w", err)
				}
				r.warm.done.Store(true)
			}
		}
		if m != nil {
			m = withLogprobs(m)
		}
		env.Model = m
		if r.d.Gateway != nil && m != nil {
			route := r.d.Gateway.Route(gateway.Policy{Model: m, Version: version})
			env.Gateway = harness.Gateway{BaseURL: r.d.GatewayURL, APIKey: route.Key(), Register: route.Register}
		}
	}
	return env, nil
}

// rollout runs gen's harness on the selection slice of val.
func (r *runner) rollout(ctx context.Context, gen int) error {
	start := time.Now()
	g := r.st.Gen(gen)
	items := r.sel
	r.progress(Progress{Kind: "step", Gen: gen, Step: "rollout", Total: len(items) * r.cfg.Samples})
	var tl *tally
	err := r.runWarm(ctx, func(ctx context.Context) error {
		h, _, err := r.load(ctx, gen, items)
		if err != nil {
			return err
		}
		defer h.Close()
		tl, err = r.streamRollout(ctx, h, items, r.rolloutConfig(gen, task.Val, g.HarnessSHA, g.AdapterVersion, r.cfg.Samples),
			runstore.GenFile(gen, runstore.RolloutsFile), func(done, total int) {
				r.progress(Progress{Kind: "items", Gen: gen, Step: "rollout", Done: done, Total: total})
			})
		return err
	})
	if err != nil {
		return err
	}
	// A first generation that fails everywhere has nothing to compare
	// with: stop with the cause (a resume redoes the rollout). A later
	// candidate that fails everywhere is just rejected.
	if err := r.checkFailures(gen, "val rollout", tl, gen == 1); err != nil {
		return err
	}
	return r.emit(runstore.Event{Type: runstore.EvRolloutDone, Gen: gen, Samples: tl.n,
		Tokens: tl.tokens, CostUSD: tl.cost, DurationS: since(start)})
}

// Warmer is a task model with slow one-time setup, done before a rollout.
type Warmer interface {
	Warm(ctx context.Context) error
}

// usesModel reports whether a harness may call the task model: a Starlark
// one when its code mentions the model module, a python one when it
// mentions the OpenAI client or the endpoint it is given. A harness that
// does not is never made to wait for a base model to be pretrained.
func usesModel(src harness.Source) bool {
	if strings.HasSuffix(src.Name, ".star") {
		return bytes.Contains(src.Code, []byte("model."))
	}
	for _, mark := range []string{"OPENAI", "openai", "chat/completions", "urllib", "requests", "http"} {
		if bytes.Contains(src.Code, []byte(mark)) {
			return true
		}
	}
	return false
}

// withLogprobs asks every task-model call for token ids and sampling
// logprobs: the weights lever trains on exactly what was sampled.
func withLogprobs(m llm.Model) llm.Model {
	return llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		req.Logprobs = true
		return m.Chat(ctx, req)
	})
}

// rolloutConfig configures a rollout of gen's harness on split. Val and test
// rollouts of every generation draw from the same random stream (stream 0):
// common random numbers, so two generations' val scores differ by what the
// generations changed and not by sampling luck, and the incumbent's test
// score does not depend on which generation found it. Train rollouts for a
// weight update set their own stream.
func (r *runner) rolloutConfig(gen int, split, sha string, version, samples int) rollout.Config {
	return rollout.Config{
		Run: r.cfg.RunID, Gen: gen, Split: split, HarnessSHA: sha, AdapterVersion: version,
		Samples: samples, Parallel: r.cfg.Parallel, ItemTimeout: time.Duration(r.cfg.ItemTimeout), Seed: r.cfg.Seed,
	}
}

// verify scores gen's val rollouts, compares them with the incumbent's
// item by item, and keeps the incumbent the comparison names.
func (r *runner) verify(ctx context.Context, gen int) error {
	start := time.Now()
	r.progress(Progress{Kind: "step", Gen: gen, Step: "verify"})
	rel := runstore.GenFile(gen, runstore.RolloutsFile)
	tl, err := r.tallyFile(rel, r.cfg.Samples)
	if err != nil {
		return err
	}
	res, err := r.scoreTally(ctx, task.Val, tl, rel)
	if err != nil {
		return err
	}
	if err := r.d.Store.WriteJSON(runstore.GenFile(gen, runstore.ResultsFile), res); err != nil {
		return err
	}
	score := res.Score
	ids, means := tl.means()
	tl = nil // the selection reads the incumbent's rollouts: let this go first
	sel, err := r.selection(gen, score, ids, means)
	if err != nil {
		return err
	}
	if err := r.d.Store.WriteJSON(runstore.GenFile(gen, runstore.SelectionFile), sel); err != nil {
		return err
	}
	if err := r.emit(runstore.Event{Type: runstore.EvVerified, Gen: gen, Score: &score, Selection: &sel, DurationS: since(start)}); err != nil {
		return err
	}
	r.progress(Progress{Kind: "gen_done", Gen: gen, Score: score, Text: sel.Reason})
	if err := r.syncBest(); err != nil {
		return err
	}
	if err := r.writeReturns(); err != nil {
		return err
	}
	return r.writeContext()
}

// gold returns the labels of the split's items that were rolled out, by
// id: a rollout of a slice of val is scored on that slice alone. For train
// it reads the examples' labels.
func (r *runner) gold(split string, want map[string]int) map[string]string {
	out := map[string]string{}
	if split != task.Train {
		for id, label := range r.d.Data.Gold(split) {
			if _, ok := want[id]; ok {
				out[id] = label
			}
		}
		return out
	}
	for _, e := range r.d.Data.Train {
		if _, ok := want[e.ID]; ok {
			out[e.ID] = e.Label
		}
	}
	return out
}

// test scores the incumbent once on the held-out split.
func (r *runner) test(ctx context.Context) error {
	if err := r.scoreBaseline(ctx, true); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	start := time.Now()
	best := r.st.Gen(r.st.BestGen)
	gold := r.d.Data.Gold(task.Test)
	items := r.d.Data.Items(task.Test)
	if len(gold) == 0 || len(items) == 0 {
		r.progress(Progress{Kind: "notice", Text: "the test split has no labels here: no held-out score"})
		return r.finish()
	}
	r.progress(Progress{Kind: "step", Gen: best.Gen, Step: "test", Total: len(items) * r.cfg.Samples})
	rel := runstore.BestFile(runstore.TestRolloutsFile)
	var tl *tally
	err := r.runWarm(ctx, func(ctx context.Context) error {
		h, _, err := r.load(ctx, best.Gen, items)
		if err != nil {
			return err
		}
		defer h.Close()
		tl, err = r.streamRollout(ctx, h, items, r.rolloutConfig(best.Gen, task.Test, best.HarnessSHA, best.AdapterVersion, r.cfg.Samples),
			rel, func(done, total int) {
				r.progress(Progress{Kind: "items", Gen: best.Gen, Step: "test", Done: done, Total: total})
			})
		return err
	})
	if err != nil {
		return err
	}
	if err := r.checkFailures(best.Gen, "test rollout", tl, true); err != nil {
		return err
	}
	res, err := r.scoreTally(ctx, task.Test, tl, rel)
	if err != nil {
		return err
	}
	if err := r.d.Store.WriteJSON(runstore.BestFile(runstore.TestResultsFile), res); err != nil {
		return err
	}
	score := res.Score
	return r.emit(runstore.Event{Type: runstore.EvTestScored, Gen: best.Gen, Score: &score, DurationS: since(start)})
}

func (r *runner) finish() error {
	if err := r.writeContext(); err != nil {
		return err
	}
	reason := "max-gen reached"
	if last := r.st.Last(); last != nil && last.Decided && last.NextAction == agent.ActionStop {
		reason = "feedback-agent stopped: " + last.Rationale
	}
	return r.emit(runstore.Event{Type: runstore.EvRunFinished, Reason: reason})
}

// bestInfo is best/best.json.
type bestInfo struct {
	Gen            int     `json:"gen"`
	Score          float64 `json:"score"`
	HarnessSHA     string  `json:"harness_sha"`
	AdapterVersion int     `json:"adapter_version"`
	AdapterDir     string  `json:"adapter_dir,omitempty"`
}

// syncBest makes best/ hold the incumbent. Idempotent.
func (r *runner) syncBest() error {
	g := r.st.Gen(r.st.BestGen)
	if g == nil {
		return nil
	}
	info := bestInfo{Gen: g.Gen, Score: g.Score, HarnessSHA: g.HarnessSHA, AdapterVersion: g.AdapterVersion, AdapterDir: g.AdapterDir}
	var cur bestInfo
	if err := r.d.Store.ReadJSON(runstore.BestFile(runstore.BestInfoFile), &cur); err == nil && cur == info {
		return nil
	}
	src, err := r.readHarness(g.Gen)
	if err != nil {
		return err
	}
	return runstore.ReplaceDir(r.d.Store.BestDir(), func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, src.Name), src.Code, 0o644); err != nil {
			return err
		}
		for name, v := range map[string]any{harness.KnobsFile: src.Knobs, runstore.BestInfoFile: info} {
			b, _ := json.MarshalIndent(v, "", "  ")
			if err := os.WriteFile(filepath.Join(tmp, name), append(b, '\n'), 0o644); err != nil {
				return err
			}
		}
		if b, err := os.ReadFile(r.d.Store.Path(runstore.GenFile(g.Gen, runstore.ResultsFile))); err == nil {
			if err := os.WriteFile(filepath.Join(tmp, runstore.ResultsFile), b, 0o644); err != nil {
				return err
			}
		}
		if g.AdapterDir != "" && !strings.Contains(g.AdapterDir, "://") {
			return copyDir(r.d.Store.Path(g.AdapterDir), filepath.Join(tmp, runstore.AdapterDir))
		}
		return nil
	})
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// writeHarness writes a harness version into gen's folder.
func (r *runner) writeHarness(gen int, src harness.Source) error {
	if src.Name == "" {
		src.Name = harness.StarlarkFile
	}
	if strings.ContainsAny(src.Name, `/\`) {
		return fmt.Errorf("harness file name %q must be a plain name", src.Name)
	}
	if err := r.d.Store.WriteFile(runstore.GenFile(gen, src.Name), src.Code); err != nil {
		return err
	}
	knobs := src.Knobs
	if knobs == nil {
		knobs = map[string]any{}
	}
	return r.d.Store.WriteJSON(runstore.GenFile(gen, harness.KnobsFile), knobs)
}

// readHarness reads gen's harness version back.
func (r *runner) readHarness(gen int) (harness.Source, error) {
	src, err := harness.ReadSource(r.d.Store.GenDir(gen))
	if err != nil {
		return src, fmt.Errorf("gen %d: %w", gen, err)
	}
	return src, nil
}

// brokenHarness stands in for a harness that failed to load: every item
// fails with the load error, so the generation scores 0 and the loop goes on.
type brokenHarness struct{ err error }

func (b brokenHarness) Solve(context.Context, task.Item, harness.Sample) (string, error) {
	return "", b.err
}
func (b brokenHarness) Decl() harness.Decl { return harness.Decl{} }
func (b brokenHarness) Close() error       { return nil }
