package demo

import (
	"context"
	"strings"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// TestReferenceHarness runs the reference harness on a scripted model: the
// messages it sends, the few-shot retrieval, voting and validation.
func TestReferenceHarness(t *testing.T) {
	src, err := files.ReadFile("reference/harness.star")
	if err != nil {
		t.Fatal(err)
	}
	train := []task.Example{
		{Item: task.Item{ID: "t1", Fields: map[string]any{"pattern": "m_st_n"}}, Label: "mistan"},
		{Item: task.Item{ID: "t2", Fields: map[string]any{"pattern": "k_rb_t"}}, Label: "korbet"},
		{Item: task.Item{ID: "t3", Fields: map[string]any{"pattern": "zu_"}}, Label: "zum"},
	}
	// Five replies: two fit k_rb_l ("korbel"), three do not ("korbet" ×2, "x y").
	replies := []string{"korbet", "Korbel\nmore", "korbet", "korbel", "x y"}
	model := llmtest.New("fake", func(_ int, req llm.Request) (*llm.Completion, error) {
		c := &llm.Completion{Model: "fake"}
		for i := 0; i < req.N; i++ {
			c.Choices = append(c.Choices, llm.Choice{Message: llm.Message{Role: "assistant", Content: replies[i%len(replies)]}})
		}
		return c, nil
	})
	tests := []struct {
		name  string
		knobs map[string]any
		want  string
		turns int
		first string
	}{
		{"defaults: cloze, one sample", nil, "korbet", 1, "k_rb_l ?"},
		{"vote without validation", map[string]any{"n_votes": 5}, "korbet", 1, ""},
		{"vote with validation", map[string]any{"n_votes": 5, "validate": true}, "korbel", 1, ""},
		{"fill with shots", map[string]any{"variant": "fill", "shots": 2}, "korbet", 5, "fill: k_rb_t"},
	}
	rt := starlark.New(starlark.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := rt.Load(context.Background(), harness.Source{Name: "harness.star", Code: src, Knobs: tt.knobs},
				harness.Env{Model: model, Train: train})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			before := len(model.Calls())
			got, err := h.Solve(context.Background(), task.Item{ID: "v1", Fields: map[string]any{"pattern": "k_rb_l"}}, harness.Sample{Rec: trajectory.NewRecorder()})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
			req := model.Calls()[before]
			if len(req.Messages) != tt.turns {
				t.Fatalf("%d messages, want %d: %+v", len(req.Messages), tt.turns, req.Messages)
			}
			if tt.first != "" && req.Messages[0].Content != tt.first {
				t.Errorf("first message %q, want %q", req.Messages[0].Content, tt.first)
			}
			last := req.Messages[len(req.Messages)-1].Content
			if !strings.Contains(last, "k_rb_l") {
				t.Errorf("question %q lacks the pattern", last)
			}
		})
	}
	decl, err := rt.Inspect(harness.Source{Name: "harness.star", Code: src})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"variant", "shots", "n_votes", "temperature", "validate"} {
		if len(decl.Knobs[k]) < 2 {
			t.Errorf("knob %s declares %v", k, decl.Knobs[k])
		}
	}
}
