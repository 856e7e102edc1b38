package knight

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// LongCoT's own examples (shared data) must come out at their published
// answers.
func TestLongCoTExamples(t *testing.T) {
	b, err := os.ReadFile("../../shared/data/longcot-chess/examples.json")
	if err != nil {
		t.Skipf("shared data absent (%v): skipping the LongCoT examples", err)
	}
	var items []struct {
		ID      string                    `json:"question_id"`
		Prompt  string                    `json:"prompt"`
		Problem struct{ Template string } `json:"problem"`
		Answer  json.RawMessage           `json:"answer"`
	}
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Problem.Template != "knight_path" {
			continue
		}
		n++
		var s string
		if err := json.Unmarshal(it.Answer, &s); err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.Atoi(s)
		p, err := ParsePrompt(it.Prompt)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Solve(t.Context(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Moves != want {
			t.Errorf("%s: solved %d, LongCoT says %d", it.ID, res.Moves, want)
		}
	}
	if n == 0 {
		t.Fatal("no knight_path items in examples.json")
	}
}
