package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
	// Parts is the content as OpenAI content parts (a JSON array) when the
	// caller sent it so; Content then holds its text parts joined. Backends
	// that speak OpenAI's wire send Parts as given; the others use Content
	// and refuse non-text parts (Request.Unsupported). Not written to logs.
	Parts json.RawMessage `json:"-"`
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
	// TopLogprobs asks for that many most likely alternatives per token
	// (OpenAI's top_logprobs; 0 = none).
	TopLogprobs int `json:"top_logprobs,omitempty"`
	// Extra holds OpenAI Chat Completions request fields the fields above
	// do not model (response_format, tool_choice, presence_penalty, …),
	// keyed by wire name, as raw JSON. A backend forwards those it can
	// honour and refuses the rest with an *UnsupportedError, never
	// dropping one silently.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// Capabilities say which of a Request's optional parts a backend honours.
type Capabilities struct {
	// AllExtra: every Extra field is forwarded (an OpenAI-compatible
	// server decides); otherwise only those named in Extra are honoured.
	AllExtra bool
	Extra    map[string]bool
	// TopLogprobs and ContentParts: top_logprobs, and non-text content
	// parts, are honoured.
	TopLogprobs, ContentParts bool
}

// UnsupportedError is a request field a backend cannot honour.
type UnsupportedError struct {
	Backend string // e.g. "embedded model"
	Field   string // the wire name, e.g. "presence_penalty" or "messages[1].content[0].type"
	Detail  string // optional: why, or what to use instead
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("%s cannot honour %s", e.Backend, e.Field)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unsupported returns an *UnsupportedError for the first part of r that a
// backend with capabilities c cannot honour (Extra fields in name order),
// or nil.
func (r Request) Unsupported(backend string, c Capabilities) error {
	if !c.AllExtra && len(r.Extra) > 0 {
		names := make([]string, 0, len(r.Extra))
		for k := range r.Extra {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !c.Extra[k] {
				return &UnsupportedError{Backend: backend, Field: k}
			}
		}
	}
	if r.TopLogprobs > 0 && !c.TopLogprobs {
		return &UnsupportedError{Backend: backend, Field: "top_logprobs"}
	}
	if !c.ContentParts {
		for i, m := range r.Messages {
			if j, typ := m.nonTextPart(); j >= 0 {
				return &UnsupportedError{Backend: backend, Field: fmt.Sprintf("messages[%d].content[%d]", i, j),
					Detail: fmt.Sprintf("content parts of type %q (text only)", typ)}
			}
		}
	}
	return nil
}

// nonTextPart returns the index and type of the first content part that is
// not text, or -1.
func (m Message) nonTextPart() (int, string) {
	if len(m.Parts) == 0 {
		return -1, ""
	}
	var parts []struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(m.Parts, &parts) != nil {
		return 0, "unknown"
	}
	for j, p := range parts {
		if p.Type != "text" {
			return j, p.Type
		}
	}
	return -1, ""
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
	// TopLogprobs[i] are the most likely alternatives at completion token
	// i, when Request.TopLogprobs asked for them.
	TopLogprobs [][]TopLogprob `json:"top_logprobs,omitempty"`
}

// TopLogprob is one alternative token and its logprob, as the backend
// spells the token (vLLM: "token_id:<id>").
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes,omitempty"`
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
