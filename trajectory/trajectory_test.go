package trajectory

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/llm"
)

func TestRecorderConcurrentAndRoundTrip(t *testing.T) {
	rec := NewRecorder()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec.Log(strings.Repeat("x", i))
		}()
	}
	wg.Wait()
	c := &llm.Completion{Model: "m", PromptTokenIDs: []int{1, 2}, Usage: llm.Usage{PromptTokens: 2, CompletionTokens: 3},
		Choices: []llm.Choice{
			{Message: llm.Message{Content: "a"}, TokenIDs: []int{7}, Logprobs: []float64{-0.1}},
			{Message: llm.Message{Content: "b"}, TokenIDs: []int{8}, Logprobs: []float64{-0.2}},
		}}
	rec.AddCompletion(llm.Request{Messages: []llm.Message{{Role: "user", Content: "q"}}}, c)
	steps := rec.Steps()
	if len(steps) != 52 {
		t.Fatalf("%d steps, want 52", len(steps))
	}
	tr := Trajectory{FormatVersion: FormatVersion, Item: "i", Steps: steps, Answer: "a"}
	ms := tr.ModelSteps()
	if len(ms) != 2 || ms[1].Choice != 1 || ms[1].CompletionTokenIDs[0] != 8 || ms[0].PromptTokenIDs[1] != 2 {
		t.Fatalf("model steps %+v", ms)
	}
	// Usage is charged once per call, not per choice.
	if u := tr.Usage(); u.PromptTokens != 2 || u.CompletionTokens != 3 {
		t.Errorf("usage %+v", u)
	}
	var buf bytes.Buffer
	if err := Write(&buf, []Trajectory{tr, tr}); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf)
	if err != nil || len(back) != 2 || len(back[1].Steps) != 52 || back[0].Answer != "a" {
		t.Fatalf("round trip: %d %v", len(back), err)
	}
	if _, err := Read(strings.NewReader("{\"item\":\"a\"}\n{oops\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
}

func TestRecordingModel(t *testing.T) {
	rec := NewRecorder()
	ok := RecordingModel(llm.ModelFunc(func(context.Context, llm.Request) (*llm.Completion, error) {
		return &llm.Completion{Choices: []llm.Choice{{Message: llm.Message{Content: "hi"}}}}, nil
	}), rec)
	bad := RecordingModel(llm.ModelFunc(func(context.Context, llm.Request) (*llm.Completion, error) {
		return nil, errors.New("429 slow down")
	}), rec)
	if _, err := ok.Chat(t.Context(), llm.Request{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Chat(t.Context(), llm.Request{}); err == nil {
		t.Fatal("error swallowed")
	}
	steps := rec.Steps()
	if len(steps) != 2 || steps[0].Kind != KindModel || steps[1].Kind != KindError || !strings.Contains(steps[1].Text, "429") {
		t.Errorf("steps %+v", steps)
	}
}
