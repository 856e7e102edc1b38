package gpqa

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

func TestExtractLetter(t *testing.T) {
	tests := []struct{ in, want string }{
		{"C", "C"},
		{"c", "C"},
		{" (B) ", "B"},
		{"D)", "D"},
		{"**A**", "A"},
		{"[C].", "C"},
		{"The answer is C", "C"},
		{"The answer is (C).", "C"},
		{"ANSWER: D", "D"},
		{"Let me think. A is wrong because ... so the answer is B.\nAnswer: B", "B"},
		{"First I thought A. Final answer: D", "D"},
		{`{"answer": "C"}`, "C"},
		{"Reasoning...\n```json\n{\"answer\": \"b\"}\n```", "B"},
		{`\boxed{A}`, "A"},
		{`so we get \boxed{\text{C}}`, "C"},
		{"The correct choice is option D.", "D"},
		{"Considering all options...\n(B) the second", "B"},
		{"", ""},
		{"I cannot decide.", ""},
		{"E", ""},
		{"Based on all of this.", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := ExtractLetter(tc.in); got != tc.want {
				t.Fatalf("ExtractLetter(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestScoreItem(t *testing.T) {
	tests := []struct{ answer, gold, status string }{
		{"C", "C", verify.StatusCorrect},
		{"The answer is C", "C", verify.StatusCorrect}, // SIA would read A
		{"A", "C", verify.StatusWrong},
		{"no idea", "C", verify.StatusInvalid},
	}
	for _, tc := range tests {
		got := (Scorer{}).ScoreItem("1", tc.answer, tc.gold)
		if got.Status != tc.status {
			t.Errorf("%q vs %q: status %q, want %q", tc.answer, tc.gold, got.Status, tc.status)
		}
		if got.Status == verify.StatusWrong && got.Detail != "parsed letter A" {
			t.Errorf("detail %q should name only the parsed letter", got.Detail)
		}
	}
}

func TestParseSubmission(t *testing.T) {
	tests := []struct {
		name, file, body string
		want             map[string]string
		wantErr          bool
	}{
		{"details shape", "results.json", `{"model": "m", "details": [{"question_id": 1, "model_answer": "A"}, {"question_id": 2, "model_answer": "The answer is C"}, {"model_answer": "B"}]}`,
			map[string]string{"1": "A", "2": "The answer is C"}, false},
		{"answers shape", "results.json", `{"answers": {"1": "B", "7": "D"}, "accuracy": 0.5}`, map[string]string{"1": "B", "7": "D"}, false},
		{"flat shape with metadata", "submission.json", `{"model": "m", "timestamp": "t", "total_cost_usd": 1.5, "3": "C", "4": "A", "extra": {"x": 1}}`,
			map[string]string{"3": "C", "4": "A"}, false},
		{"array of records", "answers.json", `[{"id": 5, "answer": "D"}]`, map[string]string{"5": "D"}, false},
		{"csv", "answers.csv", "id,answer\n1,B\n", map[string]string{"1": "B"}, false},
		{"details not a list", "results.json", `{"details": 3}`, nil, true},
		{"answers not an object", "results.json", `{"answers": [1]}`, nil, true},
		{"not json", "results.json", `nope`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSubmission(tc.file, []byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// questions we wrote ourselves: GPQA's are not to be republished.
func ownQuestions(n int) (public, private []map[string]any) {
	letters := []string{"A", "B", "C", "D"}
	for i := 1; i <= n; i++ {
		q := map[string]any{
			"id":       i,
			"Question": "Which of these is the smallest prime greater than " + string(rune('0'+i%10)) + "?",
			"options":  map[string]string{"A": "2", "B": "3", "C": "5", "D": "7"},
			"domain":   "Mathematics",
		}
		public = append(public, q)
		p := map[string]any{}
		for k, v := range q {
			p[k] = v
		}
		p["correct_answer_letter"] = letters[i%4]
		private = append(private, p)
	}
	return
}

func TestVerifySubmission(t *testing.T) {
	root := t.TempDir()
	pub, priv := ownQuestions(50)
	for name, v := range map[string]any{"public/diamond_questions.json": pub, "private/diamond_questions.json": priv} {
		p := filepath.Join(root, Name, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, _ := task.NewRegistry(Bundle())
	tk, err := reg.Open(Name, task.Options{DataRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	gold := ds.Gold(task.Test)
	if len(gold) != 10 || len(ds.Items(task.Val)) != 40 {
		t.Fatalf("test %d val %d, want 10 and 40", len(gold), len(ds.Items(task.Val)))
	}
	for _, it := range ds.Items(task.Test) {
		if _, leak := it.Fields["correct_answer_letter"]; leak {
			t.Fatal("a test item carries its answer")
		}
	}
	// Answer the 10 test questions: 6 right (one in prose), 2 wrong,
	// 1 unreadable, 1 missing.
	answers := map[string]any{}
	i := 0
	for id, g := range gold {
		switch {
		case i < 5:
			answers[id] = g
		case i == 5:
			answers[id] = "After some thought, the answer is " + g
		case i < 8:
			answers[id] = map[string]string{"A": "B", "B": "C", "C": "D", "D": "A"}[g]
		case i == 8:
			answers[id] = "unsure"
		}
		i++
	}
	body, _ := json.Marshal(map[string]any{"answers": answers, "model": "hand"})
	parsed, err := tk.ParseSubmission("results.json", body)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := tk.Verifier(task.Test)
	res, err := v.Verify(t.Context(), parsed, gold)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"accuracy": 0.6, "correct": 6, "attempted": 8, "total": 10, "sia_accuracy": 0.75, "sia_accuracy_percent": 75}
	for k, w := range want {
		if got := res.Metrics[k]; got != w {
			t.Errorf("%s = %v, want %v", k, got, w)
		}
	}
	if res.Score != 0.6 {
		t.Fatalf("score %v, want 0.6", res.Score)
	}
}
