package measure

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

func examples(n int) []task.Example {
	out := make([]task.Example, n)
	for i := range out {
		id := fmt.Sprintf("t%02d", i)
		out[i] = task.Example{Item: task.Item{ID: id, Fields: map[string]any{"x": i}}, Label: fmt.Sprint(i % 2)}
	}
	return out
}

func TestPlanKeepsEachFoldsLabelsOut(t *testing.T) {
	train := examples(23)
	tests := []struct {
		name         string
		req          Request
		folds, items int
	}{
		{"5-fold over all", Request{Folds: 5, Seed: 1}, 5, 23},
		{"3-fold over a sample", Request{Items: 10, Folds: 3, Seed: 2}, 3, 10},
		{"holdout sample", Request{Items: 7, Folds: 1, Seed: 3}, 1, 7},
		{"first n", Request{Items: 4, First: true, Folds: 5}, 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			folds, err := Plan(train, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(folds) != tt.folds {
				t.Fatalf("%d folds, want %d", len(folds), tt.folds)
			}
			seen := map[string]int{}
			for _, f := range folds {
				inFold := map[string]bool{}
				for _, it := range f.Solve {
					inFold[it.ID] = true
					seen[it.ID]++
				}
				for _, ex := range f.Train {
					if inFold[ex.ID] {
						t.Errorf("fold %d: item %s is both solved and in the harness's train data", f.Index, ex.ID)
					}
				}
				if len(f.Train)+len(f.Solve) != len(train) {
					t.Errorf("fold %d: %d train + %d solved ≠ %d", f.Index, len(f.Train), len(f.Solve), len(train))
				}
			}
			if len(seen) != tt.items {
				t.Errorf("%d items solved, want %d", len(seen), tt.items)
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("item %s solved in %d folds", id, n)
				}
			}
			again, _ := Plan(train, tt.req)
			if fmt.Sprint(again) != fmt.Sprint(folds) {
				t.Error("the same request planned different folds")
			}
		})
	}
	first, _ := Plan(train, Request{Items: 4, First: true})
	var ids []string
	for _, it := range first[0].Solve {
		ids = append(ids, it.ID)
	}
	if strings.Join(ids, ",") != "t00,t01,t02,t03" {
		t.Errorf("first 4 = %v", ids)
	}
	a, _ := Plan(train, Request{Items: 5, Folds: 1, Seed: 1})
	b, _ := Plan(train, Request{Items: 5, Folds: 1, Seed: 2})
	if fmt.Sprint(a[0].Solve) == fmt.Sprint(b[0].Solve) {
		t.Error("two seeds drew the same sample")
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		train int
		req   Request
		want  string
	}{
		{0, Request{Folds: 5}, "no train split"},
		{10, Request{Folds: 1}, "leaves setup no train data"},
		{10, Request{Items: 3, Folds: 4}, "at most one fold per item"},
	}
	for _, tt := range tests {
		_, err := Plan(examples(tt.train), tt.req)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.req, err, tt.want)
		}
	}
}

func TestMeanSE(t *testing.T) {
	tests := []struct {
		xs       []float64
		mean, se float64
	}{
		{nil, 0, 0},
		{[]float64{1}, 1, 0},
		// sd of {1,0,1,0} = sqrt(1/3); se = sqrt(1/3)/2
		{[]float64{1, 0, 1, 0}, 0.5, math.Sqrt(1.0/3) / 2},
		{[]float64{2, 4, 6}, 4, 2 / math.Sqrt(3)},
	}
	for _, tt := range tests {
		m, se := MeanSE(tt.xs)
		if math.Abs(m-tt.mean) > 1e-12 || math.Abs(se-tt.se) > 1e-12 {
			t.Errorf("MeanSE(%v) = %v, %v; want %v, %v", tt.xs, m, se, tt.mean, tt.se)
		}
	}
}

// parityEval "solves" by answering x mod 2 when the harness code says
// "parity", "0" otherwise, and fails to load when it says "broken". It
// checks that it never sees a solved item's label.
func parityEval(t *testing.T, train []task.Example) Evaluator {
	labels := map[string]string{}
	for _, ex := range train {
		labels[ex.ID] = ex.Label
	}
	return func(_ context.Context, src harness.Source, f Fold, samples, stream int) (*FoldRun, error) {
		solving := map[string]bool{}
		for _, it := range f.Solve {
			solving[it.ID] = true
		}
		for _, ex := range f.Train {
			if solving[ex.ID] {
				t.Errorf("fold %d sets up on the label of %s, which it solves", f.Index, ex.ID)
			}
		}
		run := &FoldRun{SetupLog: []string{fmt.Sprintf("fitted on %d", len(f.Train))}}
		if strings.Contains(string(src.Code), "broken") {
			run.SetupError = "syntax error"
			return run, nil
		}
		for _, it := range f.Solve {
			for k := range samples {
				ans := "0"
				if strings.Contains(string(src.Code), "parity") {
					ans = fmt.Sprint(it.Fields["x"].(int) % 2)
				}
				tr := trajectory.Trajectory{Item: it.ID, Sample: k, Answer: ans, Status: verify.StatusWrong,
					Steps: []trajectory.Step{{Kind: trajectory.KindModel, Usage: &llmUsage}}}
				if ans == labels[it.ID] {
					tr.Status, tr.Reward = verify.StatusCorrect, 1
				}
				run.Trajectories = append(run.Trajectories, tr)
			}
		}
		return run, nil
	}
}

func TestRunPoolsFolds(t *testing.T) {
	train := examples(20)
	eval := parityEval(t, train)
	good, err := Run(t.Context(), eval, harness.Source{Code: []byte("parity")}, train, Request{Folds: 4, Seed: 1, Samples: 2})
	if err != nil {
		t.Fatal(err)
	}
	if good.N != 20 || good.Score != 1 || good.SE != 0 || good.Counts[verify.StatusCorrect] != 20 || len(good.Folds) != 4 {
		t.Errorf("parity harness: %+v", good)
	}
	if len(good.Trajectories) != 40 || good.Tokens != 40*3 {
		t.Errorf("%d trajectories, %d tokens", len(good.Trajectories), good.Tokens)
	}
	for i := 1; i < len(good.Items); i++ {
		if good.Items[i-1].ID > good.Items[i].ID {
			t.Fatalf("items out of train order: %s before %s", good.Items[i-1].ID, good.Items[i].ID)
		}
	}
	if got := good.Folds[0].SetupLog; len(got) != 1 || got[0] != "fitted on 15" {
		t.Errorf("setup log %q", got)
	}
	zero, err := Run(t.Context(), eval, harness.Source{Code: []byte("zero")}, train, Request{Folds: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// half the labels are 0: score 0.5, se = sqrt(20/(4*19))/sqrt(20)
	if zero.Score != 0.5 || math.Abs(zero.SE-math.Sqrt(0.25*20/19)/math.Sqrt(20)) > 1e-12 {
		t.Errorf("zero harness: score %v se %v", zero.Score, zero.SE)
	}
	c := Compare(zero, good)
	if c.N != 20 || c.Gain != 0.5 || c.Wins != 10 || c.Loss != 0 {
		t.Errorf("comparison %+v", c)
	}
	broken, err := Run(t.Context(), eval, harness.Source{Code: []byte("broken")}, train, Request{Items: 6, Folds: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if broken.Counts[verify.StatusError] != 6 || broken.Folds[1].SetupError != "syntax error" ||
		!strings.Contains(broken.Items[0].Error, "did not load: syntax error") {
		t.Errorf("broken harness: %+v", broken)
	}
}

var llmUsage = llm.Usage{PromptTokens: 2, CompletionTokens: 1}
