package llm

import (
	"context"
	"encoding/json"
	"errors"
)

// Roles of a chat message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one chat turn.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"` // set on RoleTool replies
}

// ToolCall is a model's request to run a tool. Arguments is a JSON object.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Tool declares a tool the model may call; Parameters is a JSON schema object.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// Request is one chat call. Zero values mean "backend default".
type Request struct {
	Model       string    `json:"model,omitempty"` // overrides the backend's configured model
	Messages    []Message `json:"messages"`
	Tools       []Tool    `json:"tools,omitempty"`
	N           int       `json:"n,omitempty"` // completions to sample; 0 means 1
	Temperature *float64  `json:"temperature,omitempty"`
	TopP        *float64  `json:"top_p,omitempty"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
	Stop        []string  `json:"stop,omitempty"`
	Seed        *int64    `json:"seed,omitempty"`
	// Logprobs asks for per-token sampling logprobs and token ids where the
	// backend can return them.
	Logprobs bool `json:"logprobs,omitempty"`
}

// WithTools returns a copy of r that offers tools; r is not changed.
func (r Request) WithTools(tools ...Tool) Request {
	r.Tools = append(append([]Tool(nil), r.Tools...), tools...)
	return r
}

// Choice is one sampled completion.
type Choice struct {
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason,omitempty"` // "stop", "length", "tool_calls"
	// TokenIDs are the completion's token ids as sampled; empty when the
	// backend does not expose them.
	TokenIDs []int `json:"token_ids,omitempty"`
	// Logprobs[i] is the sampling logprob of TokenIDs[i] (or of the i-th
	// completion token when ids are unknown).
	Logprobs []float64 `json:"logprobs,omitempty"`
}

// Usage counts tokens and, where a price is known, dollars.
type Usage struct {
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd,omitempty"`
}

// Add returns u+v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		CostUSD:          u.CostUSD + v.CostUSD,
	}
}

// Completion is the answer to one Request.
type Completion struct {
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   Usage    `json:"usage"`
	// PromptTokenIDs is the prompt as the backend tokenized it, when known.
	PromptTokenIDs []int `json:"prompt_token_ids,omitempty"`
	// AdapterVersion is the LoRA adapter version that served the call (0 = base).
	AdapterVersion int `json:"adapter_version,omitempty"`
}

// Text returns the first choice's content, or "".
func (c *Completion) Text() string {
	if c == nil || len(c.Choices) == 0 {
		return ""
	}
	return c.Choices[0].Message.Content
}

// Model is a chat model. Implementations are safe for concurrent use.
type Model interface {
	Chat(ctx context.Context, req Request) (*Completion, error)
}

// ErrNoModel is returned where a harness asks for a model and none is configured.
var ErrNoModel = errors.New("no target model is configured (pass --target-profile)")

// ModelFunc adapts a function to Model.
type ModelFunc func(ctx context.Context, req Request) (*Completion, error)

// Chat calls f.
func (f ModelFunc) Chat(ctx context.Context, req Request) (*Completion, error) { return f(ctx, req) }
