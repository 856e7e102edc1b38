package openai

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/shared"

	"github.com/sia-agent/sia/llm"
)

// tokenIDPrefix is how vLLM spells a token when return_tokens_as_token_ids
// is set: "token_id:<id>".
const tokenIDPrefix = "token_id:"

// toParams maps an llm.Request onto the SDK's request type.
func toParams(model string, req llm.Request, cfg Config) (sdk.ChatCompletionNewParams, error) {
	p := sdk.ChatCompletionNewParams{Model: shared.ChatModel(model)}
	for i, msg := range req.Messages {
		m, err := toMessage(msg)
		if err != nil {
			return p, fmt.Errorf("message %d: %w", i, err)
		}
		p.Messages = append(p.Messages, m)
	}
	for _, t := range req.Tools {
		def := shared.FunctionDefinitionParam{Name: t.Name}
		if t.Description != "" {
			def.Description = sdk.String(t.Description)
		}
		if len(t.Parameters) > 0 {
			var schema map[string]any
			if err := json.Unmarshal(t.Parameters, &schema); err != nil {
				return p, fmt.Errorf("tool %q parameters: %w", t.Name, err)
			}
			def.Parameters = schema
		}
		p.Tools = append(p.Tools, sdk.ChatCompletionFunctionTool(def))
	}
	if req.N > 1 {
		p.N = sdk.Int(int64(req.N))
	}
	if req.Temperature != nil {
		p.Temperature = sdk.Float(*req.Temperature)
	}
	if req.TopP != nil {
		p.TopP = sdk.Float(*req.TopP)
	}
	if req.MaxTokens > 0 {
		if *cfg.MaxCompletionTokensField {
			p.MaxCompletionTokens = sdk.Int(int64(req.MaxTokens))
		} else {
			p.MaxTokens = sdk.Int(int64(req.MaxTokens))
		}
	}
	switch len(req.Stop) {
	case 0:
	case 1:
		p.Stop.OfString = sdk.String(req.Stop[0])
	default:
		p.Stop.OfStringArray = req.Stop
	}
	if req.Seed != nil {
		p.Seed = sdk.Int(*req.Seed)
	}
	if req.Logprobs || req.TopLogprobs > 0 {
		p.Logprobs = sdk.Bool(true)
	}
	if req.TopLogprobs > 0 {
		p.TopLogprobs = sdk.Int(int64(req.TopLogprobs))
	}
	// Fields llm.Request does not model go on the wire as given: the
	// server decides whether it accepts them.
	extra := map[string]any{}
	for k, v := range req.Extra {
		extra[k] = v
	}
	if cfg.VLLM {
		extra["return_token_ids"] = true
		if req.Logprobs {
			extra["return_tokens_as_token_ids"] = true
		}
	}
	if len(extra) > 0 {
		p.SetExtraFields(extra)
	}
	return p, nil
}

func toMessage(m llm.Message) (sdk.ChatCompletionMessageParamUnion, error) {
	if len(m.Parts) > 0 {
		return partsMessage(m)
	}
	switch m.Role {
	case llm.RoleSystem:
		return sdk.SystemMessage(m.Content), nil
	case llm.RoleUser:
		return sdk.UserMessage(m.Content), nil
	case llm.RoleTool:
		if m.ToolCallID == "" {
			return sdk.ChatCompletionMessageParamUnion{}, fmt.Errorf("tool message has no tool_call_id")
		}
		return sdk.ToolMessage(m.Content, m.ToolCallID), nil
	case llm.RoleAssistant:
		var a sdk.ChatCompletionAssistantMessageParam
		if m.Content != "" || len(m.ToolCalls) == 0 {
			a.Content.OfString = sdk.String(m.Content)
		}
		for _, tc := range m.ToolCalls {
			args := string(tc.Arguments)
			if args == "" {
				args = "{}"
			}
			a.ToolCalls = append(a.ToolCalls, sdk.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &sdk.ChatCompletionMessageFunctionToolCallParam{
					ID:       tc.ID,
					Function: sdk.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: args},
				},
			})
		}
		return sdk.ChatCompletionMessageParamUnion{OfAssistant: &a}, nil
	default:
		return sdk.ChatCompletionMessageParamUnion{}, fmt.Errorf("unknown role %q", m.Role)
	}
}

// partsMessage sends a message whose content is an array of content parts
// (text, image_url, input_audio, file, …) exactly as the caller wrote it.
func partsMessage(m llm.Message) (sdk.ChatCompletionMessageParamUnion, error) {
	obj := map[string]any{"role": m.Role, "content": m.Parts}
	var u sdk.ChatCompletionMessageParamUnion
	switch m.Role {
	case llm.RoleSystem:
		v := param.Override[sdk.ChatCompletionSystemMessageParam](obj)
		u.OfSystem = &v
	case llm.RoleUser:
		v := param.Override[sdk.ChatCompletionUserMessageParam](obj)
		u.OfUser = &v
	case llm.RoleTool:
		if m.ToolCallID == "" {
			return u, fmt.Errorf("tool message has no tool_call_id")
		}
		obj["tool_call_id"] = m.ToolCallID
		v := param.Override[sdk.ChatCompletionToolMessageParam](obj)
		u.OfTool = &v
	case llm.RoleAssistant:
		if len(m.ToolCalls) > 0 {
			var calls []map[string]any
			for _, tc := range m.ToolCalls {
				args := string(tc.Arguments)
				if args == "" {
					args = "{}"
				}
				calls = append(calls, map[string]any{"id": tc.ID, "type": "function",
					"function": map[string]any{"name": tc.Name, "arguments": args}})
			}
			obj["tool_calls"] = calls
		}
		v := param.Override[sdk.ChatCompletionAssistantMessageParam](obj)
		u.OfAssistant = &v
	default:
		return u, fmt.Errorf("unknown role %q", m.Role)
	}
	return u, nil
}

// fromCompletion maps the SDK's response, including vLLM's extra fields
// (prompt_token_ids at the top, token_ids per choice), onto llm.Completion.
func fromCompletion(res *sdk.ChatCompletion) (*llm.Completion, error) {
	if res == nil {
		return nil, fmt.Errorf("empty response")
	}
	c := &llm.Completion{
		Model: res.Model,
		Usage: llm.Usage{
			PromptTokens:     int(res.Usage.PromptTokens),
			CompletionTokens: int(res.Usage.CompletionTokens),
		},
	}
	// OpenRouter reports the call's price as usage.cost (USD).
	if f, ok := res.Usage.JSON.ExtraFields["cost"]; ok {
		if v, err := strconv.ParseFloat(f.Raw(), 64); err == nil {
			c.Usage.CostUSD = v
		}
	}
	if f, ok := res.JSON.ExtraFields["prompt_token_ids"]; ok {
		ids, err := parseIDs(f.Raw())
		if err != nil {
			return nil, fmt.Errorf("prompt_token_ids: %w", err)
		}
		c.PromptTokenIDs = ids
	}
	for i, ch := range res.Choices {
		choice, err := fromChoice(ch)
		if err != nil {
			return nil, fmt.Errorf("choice %d: %w", i, err)
		}
		c.Choices = append(c.Choices, choice)
	}
	return c, nil
}

func fromChoice(ch sdk.ChatCompletionChoice) (llm.Choice, error) {
	out := llm.Choice{
		Message:      llm.Message{Role: llm.RoleAssistant, Content: ch.Message.Content},
		FinishReason: ch.FinishReason,
	}
	for _, tc := range ch.Message.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue // custom tools are not part of llm.Tool
		}
		args := tc.Function.Arguments
		if args == "" {
			args = "{}"
		}
		out.Message.ToolCalls = append(out.Message.ToolCalls, llm.ToolCall{
			ID: tc.ID, Name: tc.Function.Name, Arguments: json.RawMessage(args),
		})
	}
	var fromTokens []int // ids spelled in the logprob tokens, if all are
	if content := ch.Logprobs.Content; len(content) > 0 {
		out.Logprobs = make([]float64, len(content))
		fromTokens = make([]int, 0, len(content))
		for i, lp := range content {
			out.Logprobs[i] = lp.Logprob
			if len(lp.TopLogprobs) > 0 {
				if out.TopLogprobs == nil {
					out.TopLogprobs = make([][]llm.TopLogprob, len(content))
				}
				for _, alt := range lp.TopLogprobs {
					tl := llm.TopLogprob{Token: alt.Token, Logprob: alt.Logprob}
					for _, b := range alt.Bytes {
						tl.Bytes = append(tl.Bytes, int(b))
					}
					out.TopLogprobs[i] = append(out.TopLogprobs[i], tl)
				}
			}
			if id, ok := parseTokenID(lp.Token); ok && fromTokens != nil {
				fromTokens = append(fromTokens, id)
			} else {
				fromTokens = nil
			}
		}
	}
	if f, ok := ch.JSON.ExtraFields["token_ids"]; ok {
		ids, err := parseIDs(f.Raw())
		if err != nil {
			return out, fmt.Errorf("token_ids: %w", err)
		}
		out.TokenIDs = ids
	}
	// Prefer the ids that line up one-to-one with the logprobs.
	if fromTokens != nil && (out.TokenIDs == nil || len(out.TokenIDs) != len(out.Logprobs)) {
		out.TokenIDs = fromTokens
	}
	return out, nil
}

// parseTokenID reads vLLM's "token_id:<id>" token spelling.
func parseTokenID(tok string) (int, bool) {
	s, ok := strings.CutPrefix(tok, tokenIDPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.Atoi(s)
	if err != nil || id < 0 {
		return 0, false
	}
	return id, true
}

// parseIDs reads a JSON array of ints; JSON null gives nil.
func parseIDs(raw string) ([]int, error) {
	if raw == "" || raw == "null" {
		return nil, nil
	}
	var ids []int
	if err := json.Unmarshal([]byte(raw), &ids); err != nil {
		return nil, err
	}
	return ids, nil
}
