package report_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/report/reporttest"
)

// fixture is one real run (report/reporttest) shared by the tests here,
// made once: run_1 in runsDir.
var runsDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "report-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runsDir = dir
	if _, err := reporttest.MakeRun(context.Background(), dir, reporttest.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func openFixture(t *testing.T) *report.Run {
	t.Helper()
	r, err := report.Open(filepath.Join(runsDir, "run_1"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawEvents reads events.jsonl with no help from runstore.
func rawEvents(t *testing.T, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestOpenMatchesEvents(t *testing.T) {
	r := openFixture(t)
	if r.Name != "run_1" || r.Config.Task != "demo" || r.Config.MaxGen != 3 || len(r.Summary.Generations) != 3 {
		t.Fatalf("run %+v, %d gens", r.Config, len(r.Summary.Generations))
	}
	scores := map[int]float64{}
	var test float64
	for _, e := range rawEvents(t, filepath.Join(runsDir, "run_1")) {
		switch e["type"] {
		case "verified":
			scores[int(e["gen"].(float64))] = e["score"].(float64)
		case "test_scored":
			test = e["score"].(float64)
		}
	}
	for _, g := range r.Summary.Generations {
		if g.Score == nil || *g.Score != scores[g.Gen] {
			t.Errorf("gen %d score %v, events say %v", g.Gen, g.Score, scores[g.Gen])
		}
	}
	if r.Summary.TestScore == nil || *r.Summary.TestScore != test {
		t.Errorf("test score %v, events say %v", r.Summary.TestScore, test)
	}
	if acts := []string{r.Summary.Generations[1].Action, r.Summary.Generations[2].Action}; acts[0] != "harness" || acts[1] != "weights" {
		t.Errorf("actions %v", acts)
	}
}

func TestDecisionKeepsUnknownFields(t *testing.T) {
	r := openFixture(t)
	d, err := r.Decision(3)
	if err != nil || d == nil {
		t.Fatalf("decision: %v %v", d, err)
	}
	if d.Action != "weights" || d.Algorithm == "" || d.Recommended == "" || !strings.Contains(d.Rationale, "scripted: weights after gen 2") {
		t.Errorf("decision %+v", d)
	}
	stats := map[string]report.Field{}
	for _, f := range d.RewardStats {
		stats[f.Key] = f
	}
	if f := stats["n"]; f.Num == nil || *f.Num != 64 {
		t.Errorf("reward_stats.n %+v", f)
	}
	if len(d.Improvement) != 5 || d.Improvement[0].Key != "hypothesis" {
		t.Errorf("improvement %+v", d.Improvement)
	}
	if len(d.Extra) != 0 {
		t.Errorf("extra fields in a plain decision: %+v", d.Extra)
	}
	// A field a later sia writes (a paired test's gain interval) is kept.
	b, err := os.ReadFile(filepath.Join(runsDir, "run_1", "gen_3", "decision.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("{"), []byte(`{"selection": {"gain": 0.0156, "ci95": [-0.02, 0.05], "wins": 3}, "note": "x",`), 1)
	d2, err := report.ParseDecision(b)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(d2.Extra)
	for _, want := range []string{"selection.gain 0.0156", "selection.ci95 [-0.02,0.05]", "selection.wins 3", "note x"} {
		if !strings.Contains(got, want) {
			t.Errorf("extra %s lacks %q", got, want)
		}
	}
}

func TestTrainCurvesMatchFile(t *testing.T) {
	r := openFixture(t)
	if cs, err := r.TrainCurves(2); err != nil || len(cs) != 0 {
		t.Fatalf("a harness gen has curves: %v %v", cs, err)
	}
	cs, err := r.TrainCurves(3)
	if err != nil || len(cs) != 1 {
		t.Fatalf("curves %v %v", cs, err)
	}
	c := cs[0]
	if c.File != "gen_3/train.jsonl" {
		t.Errorf("file %q", c.File)
	}
	f, err := os.Open(filepath.Join(runsDir, "run_1", "gen_3", "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	i := 0
	for sc.Scan() {
		var m map[string]float64
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if c.Steps[i] != m["step"] {
			t.Errorf("step %d: %v want %v", i, c.Steps[i], m["step"])
		}
		for _, name := range []string{"loss", "reward", "kl", "grad_norm", "entropy"} {
			s := c.Get(name)
			if s == nil || s.Values[i] != m[name] {
				t.Fatalf("line %d %s: %v want %v", i, name, s, m[name])
			}
		}
		i++
	}
	if i < 2 || len(c.Steps) != i {
		t.Fatalf("%d lines, %d steps", i, len(c.Steps))
	}
	for j, name := range report.CurveMetrics {
		if c.Series[j].Name != name {
			t.Errorf("series %d is %q, want %q first", j, c.Series[j].Name, name)
		}
	}
}

func TestParseCurve(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		steps  []float64
		series map[string][]float64 // NaN as -1
		err    string
	}{
		{"steps and a missing metric", "{\"step\":1,\"loss\":2}\n{\"step\":2,\"loss\":1,\"kl\":0.5}\n",
			[]float64{1, 2}, map[string][]float64{"loss": {2, 1}, "kl": {-1, 0.5}}, ""},
		{"no step field: line numbers", "{\"loss\":3}\n{\"loss\":4}\n", []float64{1, 2}, map[string][]float64{"loss": {3, 4}}, ""},
		{"torn last line dropped", "{\"loss\":3}\n{\"loss\":", []float64{1}, map[string][]float64{"loss": {3}}, ""},
		{"other metrics kept", "{\"step\":1,\"margin\":0.25,\"epoch\":1}\n", []float64{1}, map[string][]float64{"margin": {0.25}}, ""},
		{"bad line", "{\"loss\":1}\nnope\n{\"loss\":2}\n", nil, nil, "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := report.ParseCurve([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(c.Steps) != fmt.Sprint(tc.steps) {
				t.Errorf("steps %v want %v", c.Steps, tc.steps)
			}
			if len(c.Series) != len(tc.series) {
				t.Errorf("series %+v want %v", c.Series, tc.series)
			}
			for name, want := range tc.series {
				s := c.Get(name)
				if s == nil || len(s.Values) != len(want) {
					t.Fatalf("%s: %+v want %v", name, s, want)
				}
				for i, v := range want {
					if got := s.Values[i]; (v == -1) != math.IsNaN(got) || (v != -1 && got != v) {
						t.Errorf("%s[%d] = %v want %v", name, i, got, v)
					}
				}
			}
		})
	}
}

func TestDiffHarnessEdit(t *testing.T) {
	r := openFixture(t)
	d, err := r.Diff(1, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ins, del []string
	for _, h := range d.Hunks {
		for _, l := range h.Lines {
			switch l.Kind {
			case report.LineInsert:
				ins = append(ins, strings.TrimSpace(l.Text))
			case report.LineDelete:
				del = append(del, strings.TrimSpace(l.Text))
			}
		}
	}
	if fmt.Sprint(ins) != fmt.Sprint([]string{reporttest.EditedLine, "max_tokens = 14,"}) || fmt.Sprint(del) != "[max_tokens = 12,]" {
		t.Errorf("inserted %q deleted %q", ins, del)
	}
	if d.Added != 2 || d.Removed != 1 || len(d.Hunks) != 2 {
		t.Errorf("+%d -%d in %d hunks", d.Added, d.Removed, len(d.Hunks))
	}
	if len(d.Knobs) != 1 || d.Knobs[0] != (report.KnobChange{Knob: "variant", From: "", To: `"fill"`}) {
		t.Errorf("knobs %+v", d.Knobs)
	}
	// A weights gen keeps its parent's harness.
	same, err := r.Diff(2, 3)
	if err != nil || !same.Same() {
		t.Errorf("gen 2 → 3: %+v %v", same, err)
	}
	// Hunk line numbers point at the lines in each file.
	a, _ := r.Harness(1)
	b, _ := r.Harness(2)
	for _, h := range d.Hunks {
		from, to := h.FromLine, h.ToLine
		al, bl := strings.Split(string(a.Code), "\n"), strings.Split(string(b.Code), "\n")
		for _, l := range h.Lines {
			switch l.Kind {
			case report.LineEqual:
				if al[from-1] != l.Text || bl[to-1] != l.Text {
					t.Fatalf("context line %q is not line %d/%d", l.Text, from, to)
				}
				from++
				to++
			case report.LineDelete:
				if al[from-1] != l.Text {
					t.Fatalf("deleted line %q is not line %d", l.Text, from)
				}
				from++
			case report.LineInsert:
				if bl[to-1] != l.Text {
					t.Fatalf("inserted line %q is not line %d", l.Text, to)
				}
				to++
			}
		}
	}
}

func TestListResolveLatest(t *testing.T) {
	dir := t.TempDir()
	copyRun(t, filepath.Join(runsDir, "run_1"), filepath.Join(dir, "run_10"))
	copyRun(t, filepath.Join(runsDir, "run_1"), filepath.Join(dir, "run_2"))
	// run_2 stops after gen 1 is verified: unfinished.
	ev := rawEvents(t, filepath.Join(dir, "run_2"))
	var kept bytes.Buffer
	for _, e := range ev[:4] {
		b, _ := json.Marshal(e)
		kept.Write(append(b, '\n'))
	}
	writeFile(t, filepath.Join(dir, "run_2", "events.jsonl"), kept.String())
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "run_10", "events.jsonl"), old, old)
	if err := os.MkdirAll(filepath.Join(dir, "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "broken", "run.json"), "{")
	if err := os.MkdirAll(filepath.Join(dir, "not-a-run"), 0o755); err != nil {
		t.Fatal(err)
	}

	entries, err := report.List(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name+":"+e.Status)
	}
	if got := strings.Join(names, " "); got != "broken:unreadable run_2:unfinished run_10:finished" {
		t.Fatalf("list %s", got)
	}
	r2, r10 := entries[1], entries[2]
	if r2.Gens != 1 || r2.Best == nil || r2.Best.Gen != 1 || r2.TestScore != nil || r10.Gens != 3 || r10.TestScore == nil {
		t.Errorf("entries %+v %+v", r2, r10)
	}
	var buf bytes.Buffer
	if err := report.WriteList(&buf, entries, time.Now()); err != nil {
		t.Fatal(err)
	}
	checkWidth(t, buf.String())
	for _, want := range []string{"run_10", "demo", "3/3", fmt.Sprintf("%.4f (gen %d)", r10.Best.Score, r10.Best.Gen),
		fmt.Sprintf("%.4f", *r10.TestScore), "1h ago", "unfinished", "unreadable"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("listing lacks %q:\n%s", want, buf.String())
		}
	}

	for _, tc := range []struct{ arg, want, err string }{
		{"latest", "run_2", ""},
		{"run_10", "run_10", ""},
		{"10", "run_10", ""},
		{filepath.Join(dir, "run_2"), "run_2", ""},
		{"run_7", "", "no run \"run_7\""},
		{filepath.Join(dir, "not-a-run"), "", "has no run.json"},
	} {
		got, err := report.Resolve(dir, tc.arg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v want %q", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || filepath.Base(got) != tc.want {
			t.Errorf("%s → %s %v, want %s", tc.arg, got, err, tc.want)
		}
	}
	if _, err := report.Resolve(t.TempDir(), "latest"); err == nil || !strings.Contains(err.Error(), "no runs") {
		t.Errorf("latest in an empty folder: %v", err)
	}
}

func TestCompareSideBySide(t *testing.T) {
	a := openFixture(t).Summary
	b := *a
	b.Generations = b.Generations[:2]
	b.TestScore = nil
	b.Finished = false
	var buf bytes.Buffer
	if err := report.WriteCompare(&buf, "run_1", a, "a-run-with-a-rather-long-name-that-must-be-cut-to-fit", &b); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checkWidth(t, out)
	lines := strings.Split(out, "\n")
	var row3 string
	for _, l := range lines {
		if strings.HasPrefix(l, "3 ") {
			row3 = l
		}
	}
	g3 := a.Generations[2]
	if !strings.Contains(row3, fmt.Sprintf("%.4f", *g3.Score)) || !strings.Contains(row3, "weights") || strings.Count(row3, "weights") != 1 {
		t.Errorf("gen 3 row %q", row3)
	}
	for _, want := range []string{"A: run_1", "B: a-run-with", "…", fmt.Sprintf("%.4f", *a.TestScore), "unfinished", "finished: max-gen reached"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare lacks %q:\n%s", want, out)
		}
	}
}

func checkWidth(t *testing.T, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > report.MaxWidth {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
}

func copyRun(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
