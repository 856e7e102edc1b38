package loop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// trajs makes K samples per item with the given per-item successes.
func trajs(gen int, k int, correct map[string]int) []trajectory.Trajectory {
	var out []trajectory.Trajectory
	for id, c := range correct {
		for s := 0; s < k; s++ {
			r := 0.0
			if s < c {
				r = 1
			}
			out = append(out, trajectory.Trajectory{Gen: gen, Item: id, Sample: s, Reward: r})
		}
	}
	return out
}

// items makes n item ids each with c correct samples.
func items(n, c int, bump map[string]int) map[string]int {
	out := map[string]int{}
	for i := range n {
		out[fmt.Sprintf("v%02d", i)] = c
	}
	for id, v := range bump {
		out[id] = v
	}
	return out
}

// TestSelectionRule: the acceptance rule over per-item rewards of the same
// items, against hand-built incumbents.
func TestSelectionRule(t *testing.T) {
	const k = 4
	inc := items(20, 2, nil) // every item: 2 of 4 samples right
	tests := []struct {
		name     string
		accept   string
		cand     map[string]int
		higher   bool
		want     bool
		reason   string
		pBelow   float64 // the p-value must be below (0 = not checked)
		pAtLeast float64
	}{
		{"one better item is noise", "0.05", items(20, 2, map[string]int{"v00": 3}), true, false, "not enough evidence", 0, 0.05},
		{"one better item is enough under any", "any", items(20, 2, map[string]int{"v00": 3}), true, true, "--accept any", 0, 0},
		{"a gain on most items is real", "0.05", items(20, 3, nil), true, true, "real at this level", 0.001, 0},
		{"a loss is rejected under any", "any", items(20, 1, nil), true, false, "does not beat", 0, 0.9},
		{"lower is better: a lower score needs no test under any", "any", items(20, 1, nil), false, true, "--accept any", 0, 0},
		{"a stricter level rejects a modest gain", "0.001", items(20, 2, map[string]int{"v00": 4, "v01": 4, "v02": 3, "v03": 3}), true, false, "not enough evidence", 0, 0.001},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, err := runstore.Create(filepath.Join(t.TempDir(), "run"), map[string]int{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			r := &runner{cfg: Config{Accept: tc.accept, Seed: 1}, d: Deps{Store: store}, higher: tc.higher}
			incTrajs := trajs(1, k, inc)
			if err := trajectory.WriteFile(store.Path(runstore.GenFile(1, runstore.RolloutsFile)), incTrajs); err != nil {
				t.Fatal(err)
			}
			r.st = runstore.State{BestGen: 1, BestScore: 0.5, Gens: []runstore.GenState{{Gen: 1, Score: 0.5, Verified: true}}}
			ct := trajs(2, k, tc.cand)
			ids, means := itemMeans(ct)
			score := 0.0
			for _, m := range means {
				score += m / float64(len(means))
			}
			sel, err := r.selection(2, score, ids, means)
			if err != nil {
				t.Fatal(err)
			}
			if sel.Accepted != tc.want || !strings.Contains(sel.Reason, tc.reason) {
				t.Errorf("accepted %v (%s), want %v (%q)", sel.Accepted, sel.Reason, tc.want, tc.reason)
			}
			if sel.N != 20 || sel.Incumbent != 1 || sel.Test == "" || sel.Method == "" {
				t.Errorf("selection record %+v", sel)
			}
			if tc.pBelow > 0 && sel.PValue >= tc.pBelow {
				t.Errorf("p %v, want below %v", sel.PValue, tc.pBelow)
			}
			if tc.pAtLeast > 0 && sel.PValue < tc.pAtLeast {
				t.Errorf("p %v, want at least %v", sel.PValue, tc.pAtLeast)
			}
			if !(sel.GainLo <= sel.Gain && sel.Gain <= sel.GainHi) {
				t.Errorf("interval [%v, %v] misses the gain %v", sel.GainLo, sel.GainHi, sel.Gain)
			}
		})
	}
}

func TestSplitVal(t *testing.T) {
	mk := func(n int) []task.Item {
		out := make([]task.Item, n)
		for i := range out {
			out[i].ID = fmt.Sprintf("i%02d", i)
		}
		return out
	}
	tests := []struct {
		name      string
		n         int
		frac      float64
		sel, conf int
	}{
		{"a quarter of 64", 64, 0.25, 48, 16},
		{"at least four held out", 12, 0.1, 8, 4},
		{"too small to hold out", 7, 0.25, 7, 0},
		{"nothing asked", 40, 0, 40, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, conf := splitVal(mk(tc.n), tc.frac, 3)
			if len(sel) != tc.sel || len(conf) != tc.conf {
				t.Fatalf("%d + %d, want %d + %d", len(sel), len(conf), tc.sel, tc.conf)
			}
			seen := map[string]bool{}
			for _, it := range append(append([]task.Item{}, sel...), conf...) {
				if seen[it.ID] {
					t.Errorf("%s in both slices", it.ID)
				}
				seen[it.ID] = true
			}
			again, _ := splitVal(mk(tc.n), tc.frac, 3)
			other, _ := splitVal(mk(tc.n), tc.frac, 4)
			if fmt.Sprint(again) != fmt.Sprint(sel) {
				t.Error("the same seed split differently")
			}
			if tc.conf > 0 && fmt.Sprint(other) == fmt.Sprint(sel) {
				t.Error("another seed gave the same split")
			}
		})
	}
}

// recorder wraps a Feedback-Agent and keeps every input it got.
type recorder struct {
	agent.Feedback
	mu  sync.Mutex
	ins []agent.FeedbackInput
}

func (r *recorder) Decide(ctx context.Context, in agent.FeedbackInput) (agent.FeedbackOutput, error) {
	r.mu.Lock()
	r.ins = append(r.ins, in)
	r.mu.Unlock()
	return r.Feedback.Decide(ctx, in)
}

const rankCode = `{"mult": [2, 3], "offset": [0, 5, 1], "use_model": [true]}`

// TestConfirmationSliceIsHeldOut runs every selection feature and checks
// that no val rollout, result, agent input or agent view during the search
// holds a confirmation item, and that the final incumbent is re-scored on
// it and on fresh samples.
func TestConfirmationSliceIsHeldOut(t *testing.T) {
	taskDir := writeTaskN(t, rankCode, 40)
	runDir := filepath.Join(t.TempDir(), "run_t")
	cfg := withSelection(Config{RunID: "t", Task: "fake", MaxGen: 6, Mode: agent.ModeAuto, Seed: 7, Parallel: 3, Samples: 2,
		TrainItems: 8, TrainSamples: 2, Metric: "accuracy", HigherIsBetter: true})
	rec := &recorder{}
	st, err := runLoopCfg(t.Context(), taskDir, runDir, cfg, false, false, true, func(f agent.Feedback) agent.Feedback {
		rec.Feedback = f
		return rec
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := task.OpenDir(taskDir, nil)
	data, _ := tk.Load(t.Context())
	sel, conf := splitVal(data.Items(task.Val), cfg.ConfirmFrac, cfg.Seed)
	if len(conf) != 10 || len(sel) != 30 {
		t.Fatalf("split %d + %d", len(sel), len(conf))
	}
	held := map[string]bool{}
	for _, it := range conf {
		held[it.ID] = true
	}
	leaks := func(where string, b []byte) {
		for id := range held {
			if bytes.Contains(b, []byte(`"`+id+`"`)) || bytes.Contains(b, []byte("\n"+id+",")) {
				t.Errorf("%s holds confirmation item %s", where, id)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(runDir, "gen_*", "*"))
	files = append(files, filepath.Join(runDir, "context.md"), filepath.Join(runDir, runstore.ReturnsFile))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		leaks(f, b)
	}
	if len(rec.ins) == 0 {
		t.Fatal("the Feedback-Agent was never asked")
	}
	for _, in := range rec.ins {
		for _, it := range in.Results.Items {
			if held[it.ID] {
				t.Errorf("gen %d results show %s", in.Gen, it.ID)
			}
		}
		for _, tr := range in.Rollouts {
			if held[tr.Item] {
				t.Errorf("gen %d rollouts show %s", in.Gen, tr.Item)
			}
		}
		_ = fs.WalkDir(in.Public, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(in.Public, p)
				leaks(fmt.Sprintf("gen %d agent view %s", in.Gen, p), b)
			}
			return nil
		})
	}
	// The agents' item list is the selection slice; their measuring tools
	// run on train folds only (measure.go), so they cannot reach val.
	for _, in := range rec.ins {
		if len(in.Items) != len(sel) {
			t.Errorf("gen %d: the Feedback-Agent sees %d val items, want the %d selection items", in.Gen, len(in.Items), len(sel))
		}
		for _, it := range in.Items {
			if held[it.ID] {
				t.Errorf("gen %d: the Feedback-Agent's items include confirmation item %s", in.Gen, it.ID)
			}
		}
	}
	c := st.Confirm
	if c == nil || c.Gen != st.BestGen || c.Holdout == nil || c.Holdout.Items != 10 || c.Fresh == nil || c.Fresh.Items != 30 {
		t.Fatalf("confirmation %+v", c)
	}
	var res verify.Result
	b, err := os.ReadFile(filepath.Join(runDir, "best", "confirm_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	_ = jsonUnmarshal(b, &res)
	if res.N != 10 {
		t.Errorf("confirm_results.json scores %d items, want 10", res.N)
	}
	for _, it := range res.Items {
		if !held[it.ID] {
			t.Errorf("confirm_results.json scores %s, not a confirmation item", it.ID)
		}
	}
	// Every later generation was compared with the incumbent by the test,
	// and none was accepted without p < 0.05.
	for _, g := range st.Gens[1:] {
		if !g.Verified {
			continue
		}
		if g.Selection == nil || g.Selection.Rule != "p<0.05" || g.Selection.N != 30 {
			t.Errorf("gen %d selection %+v", g.Gen, g.Selection)
			continue
		}
		if g.Accepted && g.Selection.PValue >= 0.05 {
			t.Errorf("gen %d accepted with p %v", g.Gen, g.Selection.PValue)
		}
		if _, err := os.Stat(filepath.Join(runDir, fmt.Sprintf("gen_%d", g.Gen), runstore.SelectionFile)); err != nil {
			t.Errorf("gen %d: %v", g.Gen, err)
		}
	}
	if _, err := os.Stat(filepath.Join(runDir, runstore.ReturnsFile)); err != nil {
		t.Error(err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestCandidatesRankedBySuccessiveHalving: with three candidates, the
// generation after the first gets the best of the incumbent's three
// untried moves (mult=2 answers every item), found by ranking on slices
// of val; one proposal at a time first tries mult=3.
func TestCandidatesRankedBySuccessiveHalving(t *testing.T) {
	taskDir := writeTaskN(t, knobCode, 24)
	base := Config{RunID: "t", Task: "fake", MaxGen: 2, Mode: agent.ModeHarness, Seed: 7, Parallel: 3, Samples: 2,
		Metric: "accuracy", HigherIsBetter: true}
	one := filepath.Join(t.TempDir(), "run_one")
	st1, err := runLoopCfg(t.Context(), taskDir, one, base, false, false, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ranked := filepath.Join(t.TempDir(), "run_ranked")
	cfg := base
	cfg.Candidates = 3
	st3, err := runLoopCfg(t.Context(), taskDir, ranked, cfg, false, false, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st1.Gens[1].Score != 0 || st3.Gens[1].Score != 1 {
		t.Errorf("gen 2 scored %v with one proposal and %v with three ranked; want 0 (mult=3) and 1 (mult=2)", st1.Gens[1].Score, st3.Gens[1].Score)
	}
	var f candidatesFile
	b, err := os.ReadFile(filepath.Join(ranked, "gen_2", runstore.CandidatesFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Candidates) != 3 || !f.Candidates[f.Winner].Won || f.Candidates[f.Winner].Knobs["mult"] != float64(2) {
		t.Fatalf("candidates.json %s", b)
	}
	// 24 val items × 2 samples = a budget of 48 solves; 3 candidates, 2
	// rounds: 4 items each in round 1 (the floor), then the 2 survivors.
	if f.Budget != 48 || f.Spent > f.Budget || f.Spent == 0 || len(f.Order) != 24 {
		t.Errorf("budget %d, spent %d, order of %d items", f.Budget, f.Spent, len(f.Order))
	}
	out := 0
	for _, c := range f.Candidates {
		if c.EliminatedIn > 0 {
			out++
		}
		if len(c.Rounds) == 0 || c.Items < minRankItems {
			t.Errorf("candidate %d ranked on %d items in %d rounds", c.Index, c.Items, len(c.Rounds))
		}
	}
	if out != 2 {
		t.Errorf("%d candidates eliminated, want 2", out)
	}
	var dec agent.Decision
	b, _ = os.ReadFile(filepath.Join(ranked, "gen_2", runstore.DecisionFile))
	if err := json.Unmarshal(b, &dec); err != nil || dec.Ranked == nil || dec.Ranked.Candidates != 3 ||
		!strings.Contains(dec.Rationale, "best of 3") || !strings.Contains(dec.Rationale, `mult=2`) {
		t.Errorf("decision %s", b)
	}
	knobs, _ := os.ReadFile(filepath.Join(ranked, "gen_2", "knobs.json"))
	if !bytes.Contains(knobs, []byte(`"mult": 2`)) {
		t.Errorf("gen 2 knobs %s, want the winner's", knobs)
	}
}

// stepPolicy answers "1" (the +1 the labels need) on a share of the
// sample seeds that grows with the adapter version, drawn afresh per
// version: a small step is noisy on val, a large one is clear.
func stepPolicy(shares ...int) PolicyFactory {
	return func(_ context.Context, _ string, version int) (llm.Model, error) {
		share := shares[min(version, len(shares)-1)]
		return llm.ModelFunc(func(_ context.Context, req llm.Request) (*llm.Completion, error) {
			reply := "0"
			if req.Seed != nil && (uint64(*req.Seed)*2654435761+uint64(version)*40503)%1000 < uint64(share)*10 {
				reply = "1"
			}
			return &llm.Completion{Model: "fake", AdapterVersion: version, PromptTokenIDs: []int{1, 2},
				Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: reply}, TokenIDs: []int{48}, Logprobs: []float64{-0.5}}},
				Usage:   llm.Usage{PromptTokens: 2, CompletionTokens: 1}}, nil
		}), nil
	}
}

// TestWeightUpdatesContinueAnUnprovenBranch: a weight update whose gain
// the test cannot prove yet is not the incumbent, but the next update
// trains on from its adapter; when that one proves the branch's gain, it
// becomes the incumbent, and its return is the branch's whole gain.
func TestWeightUpdatesContinueAnUnprovenBranch(t *testing.T) {
	taskDir := writeTaskN(t, `{"mult": [2], "offset": [0], "use_model": [true]}`, 40)
	runDir := filepath.Join(t.TempDir(), "run_t")
	cfg := Config{RunID: "t", Task: "fake", MaxGen: 3, Mode: agent.ModeWeights, Seed: 7, Parallel: 3, Samples: 4,
		TrainItems: 8, TrainSamples: 2, Metric: "accuracy", HigherIsBetter: true, Accept: "0.05"}
	st, err := runLoopCfg(t.Context(), taskDir, runDir, cfg, false, false, true, nil, stepPolicy(25, 27, 60))
	if err != nil {
		t.Fatal(err)
	}
	g2, g3 := st.Gen(2), st.Gen(3)
	if g2.Accepted || g2.Selection.Gain <= 0 || g2.Selection.PValue < 0.05 {
		t.Fatalf("gen 2 %+v: the test needs a small unproven gain", g2.Selection)
	}
	if g3.Parent != 2 || !g3.Accepted || st.BestGen != 3 {
		t.Fatalf("gen 3 parent %d accepted %v (best %d): want it to continue gen 2 and be proven", g3.Parent, g3.Accepted, st.BestGen)
	}
	b, err := os.ReadFile(filepath.Join(runDir, "gen_3", "adapter", "adapter_config.json"))
	if err != nil || !bytes.Contains(b, []byte(`"parent":"gen_2"`)) {
		t.Errorf("gen 3's adapter %s (%v): want it trained from gen 2's", b, err)
	}
	var dec agent.Decision
	b, _ = os.ReadFile(filepath.Join(runDir, "gen_3", runstore.DecisionFile))
	if err := json.Unmarshal(b, &dec); err != nil || dec.Parent != 2 || !strings.Contains(dec.Change, "gen 2's adapter") {
		t.Errorf("gen 3 decision %s", b)
	}
	r := &runner{st: st, higher: true}
	arms := r.returns()
	if len(arms) != 1 || len(arms[0].Pulls) != 2 {
		t.Fatalf("returns %+v", arms)
	}
	p2, p3 := arms[0].Pulls[0], arms[0].Pulls[1]
	if p2.Return() != 0 || p3.Return() != g3.Selection.Gain || !close(p3.Increase, g3.Selection.Gain-g2.Selection.Gain) {
		t.Errorf("pulls %+v %+v: want 0, then the branch's whole gain %v", p2, p3, g3.Selection.Gain)
	}
}

func close(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }
