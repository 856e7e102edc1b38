package llmagent

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
)

// echoTool returns its "text" argument; it fails on text "boom".
func echoTool(final bool) Tool {
	return Tool{
		Final: final,
		Spec:  llm.Tool{Name: "echo", Description: "echo text", Parameters: schema(map[string]prop{"text": {typ: "string"}}, "text")},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				Text string `json:"text"`
			}
			if err := decodeArgs(raw, &a, "text"); err != nil {
				return "", err
			}
			if a.Text == "boom" {
				return "", errors.New("boom happened")
			}
			return "echo: " + a.Text, nil
		},
	}
}

func collect(t *testing.T, l Loop) ([]Event, error) {
	t.Helper()
	var evs []Event
	for ev, err := range l.Run(t.Context(), []llm.Message{{Role: llm.RoleUser, Content: "go"}}) {
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func kinds(evs []Event) string {
	var ks []string
	for _, e := range evs {
		ks = append(ks, string(e.Kind))
	}
	return strings.Join(ks, ",")
}

func TestLoopRunsToolsThenFinishes(t *testing.T) {
	m := scripted(t,
		turn("thinking", call("c1", "echo", map[string]string{"text": "hi"}), call("c2", "echo", map[string]string{"text": "there"})),
		turn("all done"),
	)
	evs, err := collect(t, Loop{Model: m, Tools: []Tool{echoTool(false)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kinds(evs), "model_turn,tool_call,tool_result,tool_call,tool_result,model_turn,final"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if last := evs[len(evs)-1]; last.Text != "all done" || last.Usage.PromptTokens != 200 || last.Usage.CompletionTokens != 20 {
		t.Errorf("final event %+v", last)
	}
	calls := m.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d model calls, want 2", len(calls))
	}
	if len(calls[0].Tools) != 1 || calls[0].Tools[0].Name != "echo" {
		t.Errorf("tools offered: %+v", calls[0].Tools)
	}
	res := toolResults(calls[1])
	if res["c1"] != "echo: hi" || res["c2"] != "echo: there" {
		t.Errorf("tool results sent back: %v", res)
	}
	// The assistant turn with its tool calls precedes the results.
	msgs := calls[1].Messages
	if a := msgs[1]; a.Role != llm.RoleAssistant || len(a.ToolCalls) != 2 || msgs[2].ToolCallID != "c1" {
		t.Errorf("history: %+v", msgs)
	}
	// Each model turn reports the size of the request it answered: the
	// messages so far, tool calls and results included, and the tools.
	var sizes []int
	for _, e := range evs {
		if e.Kind == EventModelTurn {
			sizes = append(sizes, e.PromptChars)
		}
	}
	spec := echoTool(false).Spec
	toolChars := len(spec.Name) + len(spec.Description) + len(spec.Parameters) + len("go") // the user message
	grown := len("thinking") + 2*len("echo") + len(`{"text":"hi"}`) + len(`{"text":"there"}`) + len("echo: hi") + len("echo: there")
	if len(sizes) != 2 || sizes[0] != toolChars || sizes[1] != sizes[0]+grown {
		t.Errorf("prompt sizes %v; want %d then %d", sizes, toolChars, toolChars+grown)
	}
}

func TestLoopBadCallsBecomeErrorResults(t *testing.T) {
	tests := []struct {
		name string
		call llm.ToolCall
		want string
	}{
		{"unknown tool", call("x", "rm_rf", map[string]string{}), `unknown tool "rm_rf"`},
		{"invalid json", call("x", "echo", `{"text": "unterminated`), "not valid JSON"},
		{"not an object", call("x", "echo", `["hi"]`), "must be a JSON object"},
		{"missing argument", call("x", "echo", map[string]string{}), "missing argument text"},
		{"unknown argument", call("x", "echo", map[string]string{"text": "a", "txt": "b"}), `unknown field "txt"`},
		{"wrong type", call("x", "echo", map[string]int{"text": 3}), "bad arguments"},
		{"tool error", call("x", "echo", map[string]string{"text": "boom"}), "boom happened"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := scripted(t, turn("", tt.call), turn("ok"))
			evs, err := collect(t, Loop{Model: m, Tools: []Tool{echoTool(false)}})
			if err != nil {
				t.Fatal(err)
			}
			var res *Event
			for i := range evs {
				if evs[i].Kind == EventToolResult {
					res = &evs[i]
				}
			}
			if res == nil || !res.IsError || !strings.Contains(res.Text, tt.want) {
				t.Fatalf("tool result %+v, want an error containing %q", res, tt.want)
			}
			if got := toolResults(m.Calls()[1])["x"]; got != res.Text {
				t.Errorf("model saw %q, event says %q", got, res.Text)
			}
		})
	}
}

func TestLoopTurnLimit(t *testing.T) {
	m := llmtest.New("loops", func(int, llm.Request) (*llm.Completion, error) {
		return turn("again", call("c", "echo", map[string]string{"text": "x"})), nil
	})
	_, err := collect(t, Loop{Model: m, Tools: []Tool{echoTool(false)}, MaxTurns: 3, LastTurnNote: "LAST TURN"})
	if !errors.Is(err, ErrTurnLimit) {
		t.Fatalf("err %v, want ErrTurnLimit", err)
	}
	calls := m.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d model calls, want 3", len(calls))
	}
	if got := toolResults(calls[2])["c"]; !strings.HasSuffix(got, "LAST TURN") {
		t.Errorf("last turn's tool result %q lacks the note", got)
	}
	if got := toolResults(calls[1])["c"]; strings.Contains(got, "LAST TURN") {
		t.Errorf("note sent early: %q", got)
	}
}

func TestLoopDefaultTurnLimitIs20(t *testing.T) {
	m := llmtest.New("loops", func(int, llm.Request) (*llm.Completion, error) {
		return turn("", call("c", "echo", map[string]string{"text": "x"})), nil
	})
	_, err := collect(t, Loop{Model: m, Tools: []Tool{echoTool(false)}})
	if !errors.Is(err, ErrTurnLimit) || len(m.Calls()) != 20 {
		t.Fatalf("err %v after %d calls, want ErrTurnLimit after 20", err, len(m.Calls()))
	}
}

func TestLoopTokenLimit(t *testing.T) {
	m := llmtest.New("hungry", func(int, llm.Request) (*llm.Completion, error) {
		c := turn("", call("c", "echo", map[string]string{"text": "x"}))
		c.Usage = llm.Usage{PromptTokens: 500, CompletionTokens: 100}
		return c, nil
	})
	_, err := collect(t, Loop{Model: m, Tools: []Tool{echoTool(false)}, MaxTokens: 1000})
	if !errors.Is(err, ErrTokenLimit) {
		t.Fatalf("err %v, want ErrTokenLimit", err)
	}
	if n := len(m.Calls()); n != 2 { // 600 < 1000 allows a second call; 1200 stops the third
		t.Fatalf("%d model calls, want 2", n)
	}
}

func TestLoopFinalTool(t *testing.T) {
	m := scripted(t,
		turn("", call("a", "submit", map[string]string{"text": "boom"})), // fails: session goes on
		turn("", call("b", "submit", map[string]string{"text": "yes"})),
		turn("never reached"),
	)
	tool := echoTool(true)
	tool.Spec.Name = "submit"
	evs, err := collect(t, Loop{Model: m, Tools: []Tool{tool}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Calls()); n != 2 {
		t.Fatalf("%d model calls, want 2", n)
	}
	if last := evs[len(evs)-1]; last.Kind != EventFinal {
		t.Errorf("last event %s, want final", last.Kind)
	}
}

func TestLoopStopsWhenConsumerStops(t *testing.T) {
	m := scripted(t, turn("", call("c", "echo", map[string]string{"text": "x"})), turn("done"))
	l := Loop{Model: m, Tools: []Tool{echoTool(false)}}
	for ev, err := range l.Run(t.Context(), nil) {
		if err != nil || ev.Kind != EventModelTurn {
			t.Fatalf("first event %+v %v", ev, err)
		}
		break
	}
	if n := len(m.Calls()); n != 1 {
		t.Fatalf("%d model calls after stopping, want 1", n)
	}
}

func TestLoopErrors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	modelErr := errors.New("upstream 500")
	tests := []struct {
		name  string
		ctx   context.Context
		loop  Loop
		want  error
		inMsg string
	}{
		{"model error", context.Background(), Loop{Model: llmtest.New("x", func(int, llm.Request) (*llm.Completion, error) { return nil, modelErr })}, modelErr, "turn 1"},
		{"no choices", context.Background(), Loop{Model: llmtest.New("x", func(int, llm.Request) (*llm.Completion, error) { return &llm.Completion{}, nil })}, nil, "no choices"},
		{"cancelled", cancelled, Loop{Model: scripted(t, turn("x"))}, context.Canceled, ""},
		{"no model", context.Background(), Loop{}, nil, "no model"},
		{"duplicate tool", context.Background(), Loop{Model: scripted(t, turn("x")), Tools: []Tool{echoTool(false), echoTool(false)}}, nil, "declared twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			for _, err := range tt.loop.Run(tt.ctx, nil) {
				if err != nil {
					got = err
				}
			}
			if got == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(got, tt.want) {
				t.Errorf("err %v, want %v", got, tt.want)
			}
			if !strings.Contains(got.Error(), tt.inMsg) {
				t.Errorf("err %q lacks %q", got, tt.inMsg)
			}
		})
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	s := strings.Repeat("法", 10) // 3 bytes each
	got := truncate(s, 10)
	if !strings.HasPrefix(got, strings.Repeat("法", 3)+"\n[truncated: 9 of 30 bytes") {
		t.Errorf("truncate = %q", got)
	}
	if truncate("short", 10) != "short" {
		t.Error("short string changed")
	}
}

func TestLoopFinalNudge(t *testing.T) {
	tests := []struct {
		name      string
		final     bool
		nudge     string
		wantCalls int
	}{
		{"nudged twice then ends", true, "submit now", 3},
		{"no nudge without a final tool", false, "submit now", 1},
		{"no nudge when unset", true, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := llmtest.New("prose", func(int, llm.Request) (*llm.Completion, error) { return turn(""), nil })
			evs, err := collect(t, Loop{Model: m, Tools: []Tool{echoTool(tt.final)}, FinalNudge: tt.nudge})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(m.Calls()); n != tt.wantCalls {
				t.Fatalf("%d calls, want %d", n, tt.wantCalls)
			}
			if evs[len(evs)-1].Kind != EventFinal {
				t.Errorf("last event %s", evs[len(evs)-1].Kind)
			}
			if tt.wantCalls > 1 {
				msgs := m.Calls()[1].Messages
				if a, u := msgs[1], msgs[2]; a.Role != llm.RoleAssistant || a.Content == "" || u.Role != llm.RoleUser || u.Content != tt.nudge {
					t.Errorf("nudge history %+v", msgs)
				}
			}
		})
	}
}
