package anthropic

import (
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/sia-agent/sia/llm"
)

// toParams maps an llm.Request onto the Messages API request.
func toParams(model string, req llm.Request, defaultMaxTokens int) (sdk.MessageNewParams, error) {
	p := sdk.MessageNewParams{Model: sdk.Model(model), MaxTokens: int64(defaultMaxTokens)}
	if req.MaxTokens > 0 {
		p.MaxTokens = int64(req.MaxTokens)
	}
	p.StopSequences = req.Stop
	for i, msg := range req.Messages {
		switch msg.Role {
		case llm.RoleSystem:
			p.System = append(p.System, sdk.TextBlockParam{Text: msg.Content})
		case llm.RoleUser:
			if msg.Content == "" {
				return p, fmt.Errorf("message %d: empty user message", i)
			}
			p.Messages = appendUser(p.Messages, sdk.NewTextBlock(msg.Content))
		case llm.RoleTool:
			if msg.ToolCallID == "" {
				return p, fmt.Errorf("message %d: tool message has no tool_call_id", i)
			}
			p.Messages = appendUser(p.Messages, sdk.NewToolResultBlock(msg.ToolCallID, msg.Content, false))
		case llm.RoleAssistant:
			var blocks []sdk.ContentBlockParamUnion
			if msg.Content != "" {
				blocks = append(blocks, sdk.NewTextBlock(msg.Content))
			}
			for _, tc := range msg.ToolCalls {
				input := tc.Arguments
				if len(input) == 0 {
					input = json.RawMessage("{}")
				}
				if !json.Valid(input) {
					return p, fmt.Errorf("message %d: tool call %s arguments are not JSON", i, tc.ID)
				}
				blocks = append(blocks, sdk.NewToolUseBlock(tc.ID, input, tc.Name))
			}
			if len(blocks) == 0 {
				return p, fmt.Errorf("message %d: empty assistant message", i)
			}
			p.Messages = append(p.Messages, sdk.NewAssistantMessage(blocks...))
		default:
			return p, fmt.Errorf("message %d: unknown role %q", i, msg.Role)
		}
	}
	for _, t := range req.Tools {
		schema, err := toInputSchema(t.Parameters)
		if err != nil {
			return p, fmt.Errorf("tool %q parameters: %w", t.Name, err)
		}
		u := sdk.ToolUnionParamOfTool(schema, t.Name)
		if t.Description != "" {
			u.OfTool.Description = sdk.String(t.Description)
		}
		p.Tools = append(p.Tools, u)
	}
	return p, nil
}

// appendUser adds blocks to a trailing user message, or starts one: tool
// results for one assistant turn must arrive together in one user message.
func appendUser(msgs []sdk.MessageParam, block sdk.ContentBlockParamUnion) []sdk.MessageParam {
	if n := len(msgs); n > 0 && msgs[n-1].OfUser != nil {
		msgs[n-1].OfUser.Content = append(msgs[n-1].OfUser.Content, block)
		return msgs
	}
	return append(msgs, sdk.NewUserMessage(block))
}

// toInputSchema splits a JSON schema object into the SDK's typed fields
// (properties, required) and passes every other key through unchanged.
func toInputSchema(raw json.RawMessage) (sdk.ToolInputSchemaParam, error) {
	var s sdk.ToolInputSchemaParam
	if len(raw) == 0 {
		return s, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return s, err
	}
	for k, v := range m {
		switch k {
		case "type":
			var typ string
			if err := json.Unmarshal(v, &typ); err != nil || typ != "object" {
				return s, fmt.Errorf(`type must be "object", got %s`, v)
			}
		case "properties":
			s.Properties = v
		case "required":
			if err := json.Unmarshal(v, &s.Required); err != nil {
				return s, fmt.Errorf("required: %w", err)
			}
		default:
			if s.ExtraFields == nil {
				s.ExtraFields = map[string]any{}
			}
			s.ExtraFields[k] = v
		}
	}
	return s, nil
}

// fromMessage maps one Messages API response onto a one-choice completion.
func fromMessage(res *sdk.Message) *llm.Completion {
	msg := llm.Message{Role: llm.RoleAssistant}
	var text []string
	for _, b := range res.Content {
		switch b.Type {
		case "text":
			text = append(text, b.Text)
		case "tool_use":
			args := b.Input
			if len(args) == 0 {
				args = json.RawMessage("{}")
			}
			msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: append(json.RawMessage(nil), args...)})
		}
		// thinking and server-tool blocks carry nothing llm.Message holds.
	}
	msg.Content = strings.Join(text, "")
	u := res.Usage
	return &llm.Completion{
		Model:   string(res.Model),
		Choices: []llm.Choice{{Message: msg, FinishReason: finishReason(string(res.StopReason))}},
		Usage: llm.Usage{
			// Cache reads and writes are prompt tokens too; the price table
			// charges them at the input rate (an upper bound for reads).
			PromptTokens:     int(u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens),
			CompletionTokens: int(u.OutputTokens),
		},
	}
}

// finishReason maps Anthropic stop reasons onto OpenAI-style finish reasons.
func finishReason(stop string) string {
	switch stop {
	case "end_turn", "stop_sequence", "pause_turn":
		return "stop"
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	default:
		return stop
	}
}
