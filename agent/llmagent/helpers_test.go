package llmagent

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
)

// call builds a tool call with JSON-encoded args (a string is used as is,
// so tests can send malformed JSON).
func call(id, name string, args any) llm.ToolCall {
	var raw json.RawMessage
	switch a := args.(type) {
	case string:
		raw = json.RawMessage(a)
	default:
		b, err := json.Marshal(a)
		if err != nil {
			panic(err)
		}
		raw = b
	}
	return llm.ToolCall{ID: id, Name: name, Arguments: raw}
}

// turn is one scripted model reply.
func turn(text string, calls ...llm.ToolCall) *llm.Completion {
	fr := "stop"
	if len(calls) > 0 {
		fr = "tool_calls"
	}
	return &llm.Completion{
		Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: text, ToolCalls: calls}, FinishReason: fr}},
		Usage:   llm.Usage{PromptTokens: 100, CompletionTokens: 10},
	}
}

// scripted replies with turns in order and fails the test past the end.
func scripted(t *testing.T, turns ...*llm.Completion) *llmtest.Model {
	t.Helper()
	return llmtest.New("scripted", func(i int, _ llm.Request) (*llm.Completion, error) {
		if i >= len(turns) {
			return nil, fmt.Errorf("script has %d turns, call %d", len(turns), i)
		}
		c := *turns[i]
		return &c, nil
	})
}

// toolResults returns the tool messages of a request keyed by call id.
func toolResults(req llm.Request) map[string]string {
	out := map[string]string{}
	for _, m := range req.Messages {
		if m.Role == llm.RoleTool {
			out[m.ToolCallID] = m.Content
		}
	}
	return out
}
