package gpqa_test

import (
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/gpqa"
	"github.com/sia-agent/sia/trajectory"
)

// The reference harness with a scripted model: chain of thought, voting,
// robust extraction and the retry for an unreadable reply.
func TestReferenceHarness(t *testing.T) {
	src, err := gpqa.Bundle().Files.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("reference/harness.star")
	if err != nil {
		t.Fatal(err)
	}
	item := task.Item{ID: "1", Fields: map[string]any{
		"Question": "Which of these is a noble gas?",
		"options":  map[string]any{"A": "Nitrogen", "B": "Argon", "C": "Oxygen", "D": "Hydrogen"},
	}}
	// n replies per call, in order.
	replies := func(texts ...string) *llmtest.Model {
		return llmtest.New("fake", func(call int, req llm.Request) (*llm.Completion, error) {
			n := max(1, req.N)
			c := &llm.Completion{}
			for i := range n {
				c.Choices = append(c.Choices, llm.Choice{Message: llm.Message{Role: llm.RoleAssistant, Content: texts[(call*n+i)%len(texts)]}})
			}
			return c, nil
		})
	}
	tests := []struct {
		name  string
		knobs map[string]any
		model *llmtest.Model
		want  string
		calls int
	}{
		{"cot final line", nil, replies("Argon has a full shell, A is wrong.\nAnswer: B"), "B", 1},
		{"prose answer is not read as A", nil, replies("The answer is C"), "C", 1},
		{"retry when unreadable", nil, replies("I am not sure.", "D"), "D", 2},
		{"majority vote", map[string]any{"n_votes": 5}, replies("Answer: B", "Answer: A", "Answer: B", "Answer: C", "Answer: B"), "B", 1},
		{"no letter at all", map[string]any{"retry": false}, replies("hmm"), "", 1},
	}
	rt := starlark.New(starlark.Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := rt.Load(t.Context(), harness.Source{Name: "harness.star", Code: src, Knobs: tc.knobs}, harness.Env{Model: tc.model})
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Solve(t.Context(), item, harness.Sample{Rec: trajectory.NewRecorder()})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("answer %q, want %q", got, tc.want)
			}
			if n := len(tc.model.Calls()); n != tc.calls {
				t.Fatalf("%d model calls, want %d", n, tc.calls)
			}
			if gpqa.ExtractLetter(got) != tc.want {
				t.Fatalf("verifier reads %q from %q", gpqa.ExtractLetter(got), got)
			}
		})
	}
}
