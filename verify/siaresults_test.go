package verify

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sia-agent/sia/sandbox"
)

func TestParseSIAResults(t *testing.T) {
	spec := Spec{Task: "t", Split: "val", Metric: "accuracy", Higher: true}
	gold := map[string]string{"1": "A", "2": "B", "3": "C", "4": "True", "5": "forgery", "6": "D", "7": "E"}
	answers := map[string]string{"1": "A", "2": "x", "3": "", "4": "yes", "5": "theft", "7": "E"}
	tests := []struct {
		name   string
		body   string
		metric string
		score  float64
		check  func(t *testing.T, r *Result)
		err    string
	}{
		{name: "SIA's shape", body: `{"summary": {"accuracy": 0.25, "correct": 1, "timestamp": "now"},
			"items": [{"id": 1, "status": "CORRECT", "output": "A", "detail": "correct"},
			          {"id": "2", "status": "WRONG", "output": "x"},
			          {"id": 3, "status": "INVALID"},
			          {"id": "4", "status": "PASS", "output": true},
			          {"id": "5", "status": "INCORRECT", "detail": "expected forgery"},
			          {"id": "6", "status": "MISSING"},
			          {"id": "9", "status": "CORRECT"}]}`,
			metric: "accuracy", score: 0.25, check: func(t *testing.T, r *Result) {
				want := map[string]string{"1": StatusCorrect, "2": StatusWrong, "3": StatusInvalid, "4": StatusCorrect,
					"5": StatusWrong, "6": StatusMissing, "7": StatusError}
				for _, it := range r.Items {
					if it.Status != want[it.ID] {
						t.Errorf("item %s: %s, want %s", it.ID, it.Status, want[it.ID])
					}
					if it.ID == "5" && strings.Contains(it.Detail, "forgery") {
						t.Errorf("item 5 detail %q names the gold", it.Detail)
					}
					if it.ID == "4" && (it.Output != "yes" || !strings.Contains(it.Detail, "read as true")) {
						t.Errorf("item 4: output %q detail %q, want the answer and how it was read", it.Output, it.Detail)
					}
				}
				if len(r.Items) != len(gold) || r.Metrics["correct"] != 1 || r.Counts[StatusCorrect] != 2 {
					t.Errorf("items %d metrics %v counts %v", len(r.Items), r.Metrics, r.Counts)
				}
			}},
		{name: "flat scalars, a details list with gold", body: `{"accuracy": 0.5, "correct": 3, "details": [{"question_id": 1, "correct_answer": "A"}]}`,
			metric: "accuracy", score: 0.5, check: func(t *testing.T, r *Result) {
				for _, it := range r.Items {
					if it.Status != StatusError || !strings.Contains(it.Detail, "no verdict") {
						t.Errorf("item %+v: want an error item saying there is no verdict (the details list is not read)", it)
					}
				}
			}},
		{name: "SIA's fallback score keys", body: `{"summary": {"f1": 0.7}}`, metric: "f1", score: 0.7},
		{name: "reward per item", body: `{"summary": {"accuracy": 0.5}, "items": [{"id": 1, "status": "PARTIAL", "reward": 0.5}, {"id": 2, "status": "EXEC_ERROR"}, {"id": 3, "status": "ODD"}]}`,
			metric: "accuracy", score: 0.5, check: func(t *testing.T, r *Result) {
				got := map[string]ItemResult{}
				for _, it := range r.Items {
					got[it.ID] = it
				}
				if got["1"].Status != StatusPartial || got["1"].Reward != 0.5 || got["2"].Status != StatusError ||
					got["3"].Status != StatusWrong || !strings.Contains(got["3"].Detail, "ODD") {
					t.Errorf("items %+v", r.Items)
				}
			}},
		{name: "no score", body: `{"summary": {"n": 3}}`, err: "no \"accuracy\""},
		{name: "not an object", body: `[1, 2]`, err: "results.json"},
		{name: "not JSON", body: `accuracy: 1`, err: "parse results.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseSIAResults([]byte(tc.body), spec, answers, gold)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Metric != tc.metric || r.Score != tc.score {
				t.Errorf("metric %s score %v, want %s %v", r.Metric, r.Score, tc.metric, tc.score)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// fakeEvaluator lays out a task folder holding script as evaluate.py.
func fakeEvaluator(script string) func(root string, answers, gold map[string]string) (Layout, error) {
	return func(root string, _, _ map[string]string) (Layout, error) {
		lay := Layout{TaskDir: filepath.Join(root, "task"), Script: "data/public/evaluate.py", GenDir: filepath.Join(root, "gen")}
		p := filepath.Join(lay.TaskDir, "data", "public", "evaluate.py")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return lay, err
		}
		if err := os.MkdirAll(lay.GenDir, 0o755); err != nil {
			return lay, err
		}
		return lay, os.WriteFile(p, []byte(script), 0o644)
	}
}

func TestExternalFailures(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	sb, err := sandbox.New(t.Context(), sandbox.ModeBwrap)
	if errors.Is(err, sandbox.ErrUnavailable) {
		t.Logf("bubblewrap unavailable (%v): without isolation", err)
		sb, err = sandbox.New(t.Context(), sandbox.ModeNone)
	}
	if err != nil {
		t.Fatal(err)
	}
	const head = "import argparse, json, os\np = argparse.ArgumentParser(); p.add_argument('--gen-dir'); a = p.parse_args()\n"
	tests := []struct{ name, script, want string }{
		{"crash", head + "raise SystemExit('no gold file here')\n", "no gold file here"},
		{"no results", head + "print('done')\n", "wrote no readable results.json"},
		{"results is a link", head + "os.symlink('/etc/passwd', os.path.join(a.gen_dir, 'results.json'))\n", "not a regular file"},
		{"no score", head + "json.dump({'summary': {}}, open(os.path.join(a.gen_dir, 'results.json'), 'w'))\n", "no \"accuracy\""},
	}
	gold := map[string]string{"1": "a"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &External{Spec: Spec{Metric: "accuracy", Higher: true}, Sandbox: sb, TempDir: t.TempDir(), Prepare: fakeEvaluator(tc.script)}
			_, err := e.Verify(t.Context(), map[string]string{"1": "a"}, gold)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line naming %q", err, tc.want)
			}
		})
	}
	ok := head + "json.dump({'summary': {'accuracy': 1.0}, 'items': [{'id': '1', 'status': 'CORRECT'}]}, open(os.path.join(a.gen_dir, 'results.json'), 'w'))\n"
	e := &External{Spec: Spec{Metric: "accuracy", Higher: true}, Sandbox: sb, TempDir: t.TempDir(), Prepare: fakeEvaluator(ok)}
	r, err := e.Verify(t.Context(), map[string]string{"1": "a"}, gold)
	if err != nil || r.Score != 1 || r.Items[0].Status != StatusCorrect {
		t.Fatalf("result %+v, err %v", r, err)
	}
	if left, _ := os.ReadDir(e.TempDir); len(left) != 0 {
		t.Errorf("scratch folders left behind: %v", left)
	}
}
