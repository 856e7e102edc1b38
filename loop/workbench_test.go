package loop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/agent/measure"
	"github.com/sia-agent/sia/dataview"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
)

// newRunner opens the fake task in a fresh run folder with a runtime and
// agents, replayed to no events, for tests that call the runner's steps.
func newRunner(t *testing.T, taskDir string, rt harness.Runtime) *runner {
	t.Helper()
	tk, err := task.OpenDir(taskDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{RunID: "t", Task: "fake", MaxGen: 3, Mode: agent.ModeHarness, Seed: 7, Parallel: 2, Samples: 1,
		TrainItems: 8, TrainSamples: 2, Metric: "accuracy", HigherIsBetter: true}
	cfg = cfg.WithDefaults()
	store, err := runstore.Create(filepath.Join(t.TempDir(), "run_t"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	view, err := dataview.New(tk, data)
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: cfg, d: Deps{Task: tk, Data: data, Runtime: rt, Meta: builtin.Meta{}, Feedback: builtin.Feedback{}, Store: store},
		higher: true, view: view}
	if err := r.replay(nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// peekHarness answers "LEAK" for any item whose label it can see, in
// ctx.train or in the public train file, and the right answer (2x+1)
// otherwise; setup logs what it was given.
const peekHarness = `
def setup(ctx):
    seen = {}
    for r in ctx.train:
        seen[r["id"]] = r["label"]
    rows = data.csv("train.csv")
    for r in rows:
        if r.get("label", "") != "":
            seen[r["id"]] = r["label"]
    items = data.csv("test.csv")
    log("ctx.train %d train.csv %d test.csv %d" % (len(ctx.train), len(rows), len(items)))
    return seen

def solve(item, seen):
    if item["id"] in seen:
        return "LEAK"
    return str(2 * int(item["x"]) + 1)
`

// TestMeasureKeepsFoldLabelsOut measures a harness that looks for the
// labels of the items it solves everywhere it can read: ctx.train and the
// public files. Every fold must solve every item without a leak, and the
// public train file must hold exactly the fold's complement (no val rows,
// which the task carves from the same file).
func TestMeasureKeepsFoldLabelsOut(t *testing.T) {
	r := newRunner(t, writeTask(t, knobCode), starlark.New(starlark.Config{}))
	cost := &measureCost{}
	fn := r.measureFunc(2, cost)
	src := harness.Source{Name: harness.StarlarkFile, Code: []byte(peekHarness)}
	train := len(r.d.Data.Train) // 40 rows, less the 12 val rows carved from train.csv
	if train != 28 {
		t.Fatalf("fixture has %d train examples", train)
	}
	res, err := fn(t.Context(), src, measure.Request{Folds: 4, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.N != train || res.Score != 1 {
		for _, it := range res.Items {
			if it.Status != "correct" {
				t.Errorf("item %s: %s %q %s", it.ID, it.Status, it.Answer, it.Error)
			}
		}
		t.Fatalf("measured %d items, score %v: a fold saw labels it solves", res.N, res.Score)
	}
	for _, f := range res.Folds {
		want := fmt.Sprintf("ctx.train %d train.csv %d test.csv %d", f.Train, f.Train, f.Items)
		if len(f.SetupLog) != 1 || f.SetupLog[0] != want {
			t.Errorf("fold %d setup log %q, want %q", f.Fold, f.SetupLog, want)
		}
	}
	// A holdout sample and the first-n smoke test keep them out too.
	for _, req := range []measure.Request{{Items: 9, Folds: 1, Seed: 2}, {Items: 5, First: true}} {
		res, err := fn(t.Context(), src, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Score != 1 || res.N != req.Items {
			t.Errorf("%+v: score %v over %d", req, res.Score, res.N)
		}
	}
	b, err := os.ReadFile(r.d.Store.Path("gen_2", runstore.MeasurementsFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 3 || cost.n != 3 {
		t.Errorf("%d measurement lines, %d costed", lines, cost.n)
	}
	if strings.Contains(string(b), `"label"`) {
		t.Error("measurements.jsonl holds labels")
	}
}

// capturingFeedback wraps an agent and keeps every input it was given.
type capturingFeedback struct {
	inner agent.Feedback
	mu    sync.Mutex
	ins   []agent.FeedbackInput
}

func (f *capturingFeedback) Decide(ctx context.Context, in agent.FeedbackInput) (agent.FeedbackOutput, error) {
	f.mu.Lock()
	f.ins = append(f.ins, in)
	f.mu.Unlock()
	out, err := f.inner.Decide(ctx, in)
	if err == nil {
		out.Decision.Rationale = fmt.Sprintf("decided after gen %d: %s", in.Gen, out.Decision.Rationale)
	}
	return out, err
}

// editingMeta writes a harness other than the reference.
type editingMeta struct{ code string }

func (m editingMeta) Initial(context.Context, agent.MetaInput) (harness.Source, error) {
	return harness.Source{Name: harness.StarlarkFile, Code: []byte(m.code)}, nil
}

// runWith runs the fake task with the given agents to maxGen.
func runAgents(t *testing.T, code string, meta agent.Meta, fb agent.Feedback, mode string, maxGen int, trainer bool, mods ...func(*Deps)) (string, runstore.State) {
	t.Helper()
	taskDir := writeTask(t, code)
	runDir := filepath.Join(t.TempDir(), "run_t")
	tk, err := task.OpenDir(taskDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{RunID: "t", Task: "fake", MaxGen: maxGen, Mode: mode, Seed: 7, Parallel: 3, Samples: 2,
		TrainItems: 8, TrainSamples: 2, Metric: "accuracy", HigherIsBetter: true}.WithDefaults()
	store, err := runstore.Create(runDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	deps := Deps{Task: tk, Data: data, Runtime: fakeRuntime{}, Meta: meta, Feedback: fb, Store: store,
		Spend: func() agent.Budget { return agent.Budget{SpentTokens: 42, LimitTokens: 1000} }}
	if trainer {
		deps.Trainer, deps.Policy = fakeTrainer{}, fakePolicy
	}
	for _, m := range mods {
		m(&deps)
	}
	st, err := Run(t.Context(), cfg, deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	return runDir, st
}

// TestHistoryRationaleIsTheOneThatMadeTheGeneration checks that row g of
// the history the Feedback-Agent reads carries the reason for gen g (the
// decision after g−1), not the one for g+1.
func TestHistoryRationaleIsTheOneThatMadeTheGeneration(t *testing.T) {
	fb := &capturingFeedback{inner: builtin.Feedback{}}
	runAgents(t, knobCode, builtin.Meta{}, fb, agent.ModeHarness, 4, false)
	last := fb.ins[len(fb.ins)-1]
	if len(last.History) != 3 || last.Gen != 3 {
		t.Fatalf("history of %d gens at gen %d", len(last.History), last.Gen)
	}
	if r := last.History[0].Rationale; !strings.HasPrefix(r, "meta-agent wrote the first harness") {
		t.Errorf("gen 1 rationale %q", r)
	}
	for _, g := range last.History[1:] {
		if want := fmt.Sprintf("decided after gen %d:", g.Gen-1); !strings.HasPrefix(g.Rationale, want) {
			t.Errorf("gen %d rationale %q, want the decision after gen %d", g.Gen, g.Rationale, g.Gen-1)
		}
	}
}

// TestFeedbackContext checks what the Feedback-Agent gets beyond the
// verdict: val items without labels, durations, acceptance, a weight
// update's training curve and lineage, train rollouts' shape, memory and
// the budget.
func TestFeedbackContext(t *testing.T) {
	fb := &capturingFeedback{inner: builtin.Feedback{Plateau: 1}}
	runDir, st := runAgents(t, modelCode, builtin.Meta{}, fb, agent.ModeAuto, 5, true)
	in := fb.ins[len(fb.ins)-1]
	if len(in.Items) != 12 || in.TrainSize != 28 {
		t.Errorf("%d val items, train size %d", len(in.Items), in.TrainSize)
	}
	for _, it := range in.Items {
		if _, ok := it.Fields["label"]; ok {
			t.Fatalf("val item %s carries its label", it.ID)
		}
	}
	if in.Budget.SpentTokens != 42 || in.Budget.LimitTokens != 1000 || in.Budget.RemainingGens != in.RemainingGens {
		t.Errorf("budget %+v", in.Budget)
	}
	if in.TrainPlan != (agent.TrainPlan{Items: 8, Samples: 2, Rounds: 1}) {
		t.Errorf("train plan %+v", in.TrainPlan)
	}
	var weights *agent.GenSummary
	for i, g := range in.History {
		if g.DurationS <= 0 {
			t.Errorf("gen %d has no duration", g.Gen)
		}
		if g.Action == agent.ActionWeights && weights == nil {
			weights = &in.History[i]
		}
	}
	if weights == nil {
		t.Fatalf("no weight update in %+v", st.Gens)
	}
	tr := weights.Training
	if tr == nil || tr.TrainStats == nil || tr.TrainItems != 8 || tr.ParentGen != weights.Parent || tr.Version != weights.AdapterVersion {
		t.Fatalf("training summary %+v", tr)
	}
	if in.TrainRollouts == nil && weights.Parent == st.BestGen {
		t.Error("no train rollouts shape though a weight update ran on the incumbent's harness")
	}
	if in.Memory == nil || len(in.Memory.Changes) != len(in.History) {
		t.Fatalf("memory %+v", in.Memory)
	}
	var onDisk agent.Memory
	b, err := os.ReadFile(filepath.Join(runDir, runstore.MemoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &onDisk); err != nil {
		t.Fatal(err)
	}
	if onDisk.FormatVersion != agent.MemoryVersion || len(onDisk.Changes) != len(st.Gens) {
		t.Fatalf("memory.json has %d changes for %d gens", len(onDisk.Changes), len(st.Gens))
	}
	for _, c := range onDisk.Changes[1:] {
		if c.Gain == nil || c.GainSE == nil || c.Paired != 12 || c.Summary == "" {
			t.Errorf("change %+v lacks its paired gain", c)
		}
		if c.Lever == agent.ActionWeights && !strings.Contains(c.Summary, "adapter v") {
			t.Errorf("weights change summary %q", c.Summary)
		}
	}
	best := onDisk.Changes[st.BestGen-1]
	if best.Test == nil || *best.Test != *st.TestScore {
		t.Errorf("the incumbent's test score is not in memory: %+v", best)
	}
}

// TestBaselineRowWhenTheMetaAgentEdits checks that a run whose first
// harness is not the reference scores the reference on val and test with
// the same seeds, and that sia show prints it beside gen 1.
func TestBaselineRowWhenTheMetaAgentEdits(t *testing.T) {
	edited := `{"mult": [2], "offset": [1]}`
	runDir, st := runAgents(t, knobCode, editingMeta{code: edited}, builtin.Feedback{}, agent.ModeHarness, 2, false)
	var b baselineInfo
	raw, err := os.ReadFile(filepath.Join(runDir, runstore.BaselineFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	// The reference answers x*1+1 (its first candidates): right for x=0 only.
	ref := harness.Source{Name: harness.StarlarkFile, Code: []byte(knobCode)}
	if b.HarnessSHA != ref.SHA() || b.ValN != 12 || b.Test == nil || b.TestN != 10 || *b.Test != 0 {
		t.Errorf("baseline %+v", b)
	}
	if b.Val >= st.Gens[0].Score {
		t.Errorf("baseline val %v not below gen 1's %v", b.Val, st.Gens[0].Score)
	}
	for _, f := range []string{"baseline/val_results.json", "baseline/test_results.json", "baseline/val_rollouts.jsonl.zst"} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	sum, err := report.Load(runDir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Baseline == nil || sum.Baseline.Val != b.Val || sum.Baseline.Test == nil {
		t.Fatalf("summary baseline %+v", sum.Baseline)
	}
	var out strings.Builder
	if err := sum.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ref") || !strings.Contains(out.String(), "reference harness") {
		t.Errorf("sia show has no baseline row:\n%s", out.String())
	}

	// With the reference unchanged there is no baseline.
	runDir, _ = runAgents(t, knobCode, builtin.Meta{}, builtin.Feedback{}, agent.ModeHarness, 1, false)
	if _, err := os.Stat(filepath.Join(runDir, runstore.BaselineFile)); !os.IsNotExist(err) {
		t.Errorf("baseline scored for an unchanged reference: %v", err)
	}
}

// warmCountingModel is a task model with slow setup: it counts Warm calls
// and fails any call made before one.
type warmCountingModel struct{ warms *atomic.Int32 }

func (m warmCountingModel) Warm(context.Context) error { m.warms.Add(1); return nil }

func (m warmCountingModel) Chat(_ context.Context, req llm.Request) (*llm.Completion, error) {
	if m.warms.Load() == 0 {
		return nil, errors.New("called before Warm")
	}
	return &llm.Completion{Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: "0"}}}}, nil
}

// TestHarnessThatNeverCallsTheModelDoesNotWarmIt runs a Starlark harness
// that mentions model.chat only in a branch its knob setting decides: the
// model is prepared only when that branch runs, and then every item is
// solved (the items that met the cold model are solved again).
func TestHarnessThatNeverCallsTheModelDoesNotWarmIt(t *testing.T) {
	for _, tc := range []struct {
		variant string
		warms   int32
	}{{"code", 0}, {"model", 1}} {
		t.Run(tc.variant, func(t *testing.T) {
			code := fmt.Sprintf(`KNOBS = {"variant": [%q]}
def solve(item):
    x = int(item["x"])
    if knobs["variant"] == "model":
        return str(2 * x + 1 + int(model.chat("add").text))
    return str(2 * x + 1)
`, tc.variant)
			var warms atomic.Int32
			policy := func(context.Context, string, int) (llm.Model, error) { return warmCountingModel{warms: &warms}, nil }
			_, st := runAgents(t, code, builtin.Meta{}, builtin.Feedback{}, agent.ModeHarness, 1, false, func(d *Deps) {
				d.Runtime, d.Policy = starlark.New(starlark.Config{}), policy
			})
			if got := warms.Load(); got != tc.warms {
				t.Errorf("the model was warmed %d times, want %d", got, tc.warms)
			}
			if st.Gens[0].Score != 1 || st.TestScore == nil || *st.TestScore != 1 {
				t.Errorf("val %v, test %v: items were lost to the cold model", st.Gens[0].Score, st.TestScore)
			}
		})
	}
}

// TestNoBaselineForAGivenHarness: with sia run --harness the user, not
// the Meta-Agent, chose gen 1; the reference is not scored.
func TestNoBaselineForAGivenHarness(t *testing.T) {
	r := newRunner(t, writeTask(t, knobCode), fakeRuntime{})
	if err := r.emit(runstore.Event{Type: runstore.EvRunStarted}); err != nil {
		t.Fatal(err)
	}
	if err := r.emit(runstore.Event{Type: runstore.EvHarnessReady, Gen: 1, HarnessSHA: "0123456789ab", Source: "meta"}); err != nil {
		t.Fatal(err)
	}
	if _, needed := r.reference(); !needed {
		t.Fatal("a Meta-Agent's edit of the reference needs no baseline")
	}
	// A Meta-Agent seeded with another harness (a profile's
	// agent_reference) that leaves it unchanged needs none either.
	r.d.Meta = seededMeta{seed: harness.Source{Name: harness.StarlarkFile, Code: []byte("seed")}}
	r.st.Gens[0].HarnessSHA = r.d.Meta.(seededMeta).seed.SHA()
	if _, needed := r.reference(); needed {
		t.Error("an unchanged seed gets a baseline")
	}
	r.cfg.InitialHarness = "given.star"
	r.st.Gens[0].HarnessSHA = "0123456789ab"
	if _, needed := r.reference(); needed {
		t.Error("a given harness gets a baseline")
	}
}

// seededMeta starts from its own reference.
type seededMeta struct {
	builtin.Meta
	seed harness.Source
}

func (m seededMeta) Reference() harness.Source { return m.seed }
