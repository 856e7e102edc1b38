package verify

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenericScorers(t *testing.T) {
	tests := []struct {
		name, scorer, answer, gold, status string
	}{
		{"exact hit", "exact", " 42 ", "42", StatusCorrect},
		{"exact miss", "exact", "42", "43", StatusWrong},
		{"exact case", "exact", "Yes", "yes", StatusWrong},
		{"exact empty", "exact", "  ", "yes", StatusInvalid},
		{"fold case and space", "exact_fold", "New  York", "new york", StatusCorrect},
		{"number equal", "number", "3.0", "3", StatusCorrect},
		{"number off", "number", "3.1", "3", StatusWrong},
		{"number invalid", "number", "three", "3", StatusInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Generic(tc.scorer)
			if err != nil {
				t.Fatal(err)
			}
			got := sc.ScoreItem("x", tc.answer, tc.gold)
			if got.Status != tc.status || (got.Reward == 1) != (tc.status == StatusCorrect) {
				t.Errorf("got %+v, want %s", got, tc.status)
			}
		})
	}
	if _, err := Generic("regex"); err == nil {
		t.Error("unknown scorer accepted")
	}
}

type perClass struct{}

func (perClass) Aggregate(items []ItemResult, gold map[string]string) map[string]float64 {
	return map[string]float64{"per_class/a": 0.5}
}

func TestVerifyMissingAndMetrics(t *testing.T) {
	v := ScorerVerifier{Spec: Spec{Task: "t", Split: "val", Metric: "accuracy", Higher: true}, Scorer: Exact{}, Aggregator: perClass{}}
	gold := map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}
	res, err := v.Verify(t.Context(), map[string]string{"a": "1", "b": "x", "c": "", "zz": "9"}, gold)
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 0.25 || res.N != 4 {
		t.Errorf("score %v n %d", res.Score, res.N)
	}
	want := map[string]int{StatusCorrect: 1, StatusWrong: 1, StatusInvalid: 1, StatusMissing: 1}
	for k, n := range want {
		if res.Counts[k] != n {
			t.Errorf("count %s = %d, want %d (%v)", k, res.Counts[k], n, res.Counts)
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	_ = json.Unmarshal(b, &top)
	if top["accuracy"] != 0.25 || top["per_class/a"] != 0.5 {
		t.Errorf("top-level metrics missing: %s", b)
	}
	for _, g := range []string{`"2"`, `"3"`, `"4"`} {
		if strings.Contains(string(b), `"output":`+g) {
			t.Errorf("results.json echoes gold %s", g)
		}
	}
	// Round trip through the file.
	p := filepath.Join(t.TempDir(), "results.json")
	if err := WriteFile(p, res); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(p)
	if err != nil || back.Score != res.Score || back.Metrics["per_class/a"] != 0.5 || len(back.Items) != 4 {
		t.Errorf("round trip: %+v %v", back, err)
	}
}

func TestParseExternalResults(t *testing.T) {
	// SIA's evaluate.py writes flat scalars.
	r, err := Parse([]byte(`{"metric": "accuracy", "accuracy": 0.75, "n": 4, "items": []}`))
	if err != nil || r.Score != 0.75 {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := Parse([]byte(`{"accuracy": `)); err == nil {
		t.Error("torn results.json accepted")
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("héllo wörld", 2); got != "h…" { // byte 2 is inside é
		t.Errorf("%q", got)
	}
	if got := Truncate("abc", 5); got != "abc" {
		t.Errorf("%q", got)
	}
}
