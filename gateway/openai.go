package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sia-agent/sia/llm"
)

// ChatRequest is the body of POST /v1/chat/completions. The fields below
// are read by the gateway; every other field (response_format,
// tool_choice, presence_penalty, …) is kept in Extra and forwarded to the
// task model, whose backend refuses by name what it cannot honour.
type ChatRequest struct {
	Model               string         `json:"model"`
	Messages            []Message      `json:"messages"`
	Tools               []Tool         `json:"tools,omitempty"`
	Stream              bool           `json:"stream,omitempty"`
	StreamOptions       *StreamOptions `json:"stream_options,omitempty"`
	N                   *int           `json:"n,omitempty"`
	Temperature         *float64       `json:"temperature,omitempty"`
	TopP                *float64       `json:"top_p,omitempty"`
	MaxTokens           *int           `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int           `json:"max_completion_tokens,omitempty"`
	Stop                Stop           `json:"stop,omitempty"`
	Seed                *int64         `json:"seed,omitempty"`
	Logprobs            *bool          `json:"logprobs,omitempty"`
	TopLogprobs         *int           `json:"top_logprobs,omitempty"`
	User                string         `json:"user,omitempty"`
	// vLLM's extras, honoured in the reply.
	ReturnTokenIDs         *bool `json:"return_token_ids,omitempty"`
	ReturnTokensAsTokenIDs *bool `json:"return_tokens_as_token_ids,omitempty"`
	// Extra holds the body's other fields, raw (explicit nulls dropped: an
	// SDK sends null for "not set").
	Extra map[string]json.RawMessage `json:"-"`
}

// handledFields are the body fields ChatRequest reads itself.
var handledFields = []string{"model", "messages", "tools", "stream", "stream_options", "n", "temperature", "top_p",
	"max_tokens", "max_completion_tokens", "stop", "seed", "logprobs", "top_logprobs", "user",
	"return_token_ids", "return_tokens_as_token_ids"}

// replyFields are Chat Completions fields whose effect lives in reply
// fields the gateway cannot carry (audio, annotations, function_call): they
// are refused, naming what to use instead.
var replyFields = map[string]string{
	"audio":              "audio output cannot be relayed; ask for text",
	"web_search_options": "web search results (annotations) cannot be relayed",
	"functions":          "deprecated; use tools",
	"function_call":      "deprecated; use tool_choice",
}

// UnmarshalJSON decodes the known fields and keeps the rest in Extra.
func (r *ChatRequest) UnmarshalJSON(b []byte) error {
	type plain ChatRequest
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for _, k := range handledFields {
		delete(all, k)
	}
	for k, v := range all {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(all, k)
		}
	}
	if len(all) > 0 {
		p.Extra = all
	}
	*r = ChatRequest(p)
	return nil
}

// FieldError is a request field the gateway refuses; it becomes OpenAI's
// error envelope with param set to Field.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Message }

// StreamOptions is stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Stop is a string or an array of strings.
type Stop []string

// UnmarshalJSON accepts "x", ["x","y"] and null.
func (s *Stop) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*s = nil
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = Stop{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("stop: want a string or an array of strings")
	}
	*s = many
	return nil
}

// Message is one chat message on the wire.
type Message struct {
	Role       string     `json:"role"`
	Content    Content    `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// Content is a message's content: a string, null, or an array of content
// parts (text, image_url, input_audio, file, refusal), kept as sent.
type Content struct {
	// Text is the string, or the text parts joined.
	Text string
	// Parts is the array as sent, nil for a string.
	Parts json.RawMessage
}

// UnmarshalJSON accepts a string, null, or an array of typed parts.
func (c *Content) UnmarshalJSON(b []byte) error {
	*c = Content{}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		c.Text = s
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return errors.New("content: want a string or an array of content parts")
	}
	var sb strings.Builder
	for i, p := range parts {
		switch p.Type {
		case "":
			return fmt.Errorf("content[%d]: a content part needs a type", i)
		case "text":
			sb.WriteString(p.Text)
		}
	}
	c.Text = sb.String()
	c.Parts = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the parts as sent, or the string.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.Parts != nil {
		return c.Parts, nil
	}
	return json.Marshal(c.Text)
}

// ToolCall is a function call requested by the model. Index is set only in
// streaming deltas.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its JSON arguments as text.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Tool declares a function tool.
type Tool struct {
	Type     string      `json:"type"`
	Function FunctionDef `json:"function"`
}

// FunctionDef is a tool's function.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// ChatCompletion is a non-streaming reply.
type ChatCompletion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   Usage    `json:"usage"`
	// PromptTokenIDs is vLLM's extra, sent when return_token_ids is set.
	PromptTokenIDs []int `json:"prompt_token_ids,omitempty"`
}

// Choice is one completion in a reply.
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	Logprobs     *ChoiceLogprobs `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
	TokenIDs     []int           `json:"token_ids,omitempty"`
}

// ResponseMessage is the assistant's message in a reply.
type ResponseMessage struct {
	Role      string     `json:"role"`
	Content   *string    `json:"content"`
	Refusal   *string    `json:"refusal"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// ChoiceLogprobs is choices[i].logprobs.
type ChoiceLogprobs struct {
	Content []TokenLogprob `json:"content"`
	Refusal []TokenLogprob `json:"refusal"`
}

// TokenLogprob is one sampled token. Token is vLLM's "token_id:<id>"
// spelling when the id is known (the gateway never sees token text).
type TokenLogprob struct {
	Token       string         `json:"token"`
	Logprob     float64        `json:"logprob"`
	Bytes       []int          `json:"bytes"`
	TopLogprobs []TokenLogprob `json:"top_logprobs"`
}

// Usage counts the call's tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Chunk is one streamed event.
type Chunk struct {
	ID             string        `json:"id"`
	Object         string        `json:"object"`
	Created        int64         `json:"created"`
	Model          string        `json:"model"`
	Choices        []ChunkChoice `json:"choices"`
	Usage          *Usage        `json:"usage,omitempty"`
	PromptTokenIDs []int         `json:"prompt_token_ids,omitempty"`
}

// ChunkChoice is one choice's delta in a chunk.
type ChunkChoice struct {
	Index        int             `json:"index"`
	Delta        Delta           `json:"delta"`
	Logprobs     *ChoiceLogprobs `json:"logprobs,omitempty"`
	FinishReason *string         `json:"finish_reason"`
	TokenIDs     []int           `json:"token_ids,omitempty"`
}

// Delta is what a chunk adds to a choice.
type Delta struct {
	Role      string     `json:"role,omitempty"`
	Content   *string    `json:"content,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// ModelList is the reply of GET /v1/models.
type ModelList struct {
	Object string      `json:"object"`
	Data   []ModelCard `json:"data"`
}

// ModelCard describes one served model.
type ModelCard struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ErrorResponse is the OpenAI error envelope.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the envelope's content.
type ErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// NewError builds an error envelope; code "" is sent as null.
func NewError(typ, code, message string) ErrorResponse {
	e := ErrorResponse{Error: ErrorBody{Message: message, Type: typ}}
	if code != "" {
		e.Error.Code = &code
	}
	return e
}

// FromChatRequest converts a wire request to an llm.Request. It rejects
// what the task model cannot take, with a message for the caller.
func FromChatRequest(r ChatRequest) (llm.Request, error) {
	out := llm.Request{
		Temperature: r.Temperature,
		TopP:        r.TopP,
		Stop:        r.Stop,
		Seed:        r.Seed,
		Logprobs:    r.Logprobs != nil && *r.Logprobs,
	}
	names := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if why, ok := replyFields[k]; ok {
			return out, &FieldError{Field: k, Message: fmt.Sprintf("Unsupported parameter: '%s' (%s)", k, why)}
		}
		if k == "modalities" && !textOnly(r.Extra[k]) {
			return out, &FieldError{Field: k, Message: `Unsupported parameter: 'modalities' other than ["text"] (audio output cannot be relayed)`}
		}
	}
	if len(r.Extra) > 0 {
		out.Extra = r.Extra
	}
	if r.TopLogprobs != nil {
		if *r.TopLogprobs < 0 || *r.TopLogprobs > 20 {
			return out, &FieldError{Field: "top_logprobs", Message: fmt.Sprintf("top_logprobs = %d: want 0..20", *r.TopLogprobs)}
		}
		out.TopLogprobs = *r.TopLogprobs
	}
	if len(r.Messages) == 0 {
		return out, errors.New("messages: at least one message is required")
	}
	for i, m := range r.Messages {
		msg := llm.Message{Content: m.Content.Text, Parts: m.Content.Parts, ToolCallID: m.ToolCallID}
		switch m.Role {
		case "system", "developer":
			msg.Role = llm.RoleSystem
		case "user":
			msg.Role = llm.RoleUser
		case "assistant":
			msg.Role = llm.RoleAssistant
			for _, tc := range m.ToolCalls {
				args := tc.Function.Arguments
				if args == "" {
					args = "{}"
				}
				if !json.Valid([]byte(args)) {
					return out, fmt.Errorf("messages[%d].tool_calls: arguments of %q are not JSON", i, tc.Function.Name)
				}
				msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: json.RawMessage(args)})
			}
		case "tool":
			msg.Role = llm.RoleTool
			if m.ToolCallID == "" {
				return out, fmt.Errorf("messages[%d]: a tool message needs tool_call_id", i)
			}
		default:
			return out, fmt.Errorf("messages[%d].role %q: want system, developer, user, assistant or tool", i, m.Role)
		}
		out.Messages = append(out.Messages, msg)
	}
	for i, t := range r.Tools {
		if t.Type != "" && t.Type != "function" {
			return out, fmt.Errorf("tools[%d].type %q: only function tools are supported", i, t.Type)
		}
		if t.Function.Name == "" {
			return out, fmt.Errorf("tools[%d].function.name is empty", i)
		}
		out.Tools = append(out.Tools, llm.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	if r.N != nil {
		if *r.N < 1 || *r.N > 128 {
			return out, fmt.Errorf("n = %d: want 1..128", *r.N)
		}
		out.N = *r.N
	}
	switch {
	case r.MaxCompletionTokens != nil:
		out.MaxTokens = *r.MaxCompletionTokens
	case r.MaxTokens != nil:
		out.MaxTokens = *r.MaxTokens
	}
	if out.MaxTokens < 0 {
		return out, fmt.Errorf("max_tokens = %d is negative", out.MaxTokens)
	}
	return out, nil
}

// textOnly reports whether a modalities value asks for text alone.
func textOnly(raw json.RawMessage) bool {
	var m []string
	return json.Unmarshal(raw, &m) == nil && len(m) == 1 && m[0] == "text"
}

// ReplyOptions are the request's wishes about the reply's extras.
type ReplyOptions struct {
	Logprobs     bool // choices[].logprobs
	TokenIDs     bool // choices[].token_ids and prompt_token_ids (vLLM)
	IncludeUsage bool // a final usage chunk when streaming
}

// ReplyOptionsOf reads the reply options from a request.
func ReplyOptionsOf(r ChatRequest) ReplyOptions {
	return ReplyOptions{
		Logprobs:     r.Logprobs != nil && *r.Logprobs,
		TokenIDs:     r.ReturnTokenIDs != nil && *r.ReturnTokenIDs,
		IncludeUsage: r.StreamOptions != nil && r.StreamOptions.IncludeUsage,
	}
}

func toUsage(u llm.Usage) Usage {
	return Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.PromptTokens + u.CompletionTokens}
}

func toToolCalls(calls []llm.ToolCall, withIndex bool) []ToolCall {
	out := make([]ToolCall, 0, len(calls))
	for j, tc := range calls {
		w := ToolCall{ID: tc.ID, Type: "function", Function: FunctionCall{Name: tc.Name, Arguments: string(tc.Arguments)}}
		if withIndex {
			w.Index = &j
		}
		out = append(out, w)
	}
	return out
}

// toLogprobs spells each token as "token_id:<id>" when ids are known.
func toLogprobs(ch llm.Choice) *ChoiceLogprobs {
	lp := &ChoiceLogprobs{Content: make([]TokenLogprob, len(ch.Logprobs)), Refusal: []TokenLogprob{}}
	for i, v := range ch.Logprobs {
		tok := ""
		if i < len(ch.TokenIDs) {
			tok = "token_id:" + strconv.Itoa(ch.TokenIDs[i])
		}
		top := []TokenLogprob{}
		if i < len(ch.TopLogprobs) {
			for _, alt := range ch.TopLogprobs[i] {
				top = append(top, TokenLogprob{Token: alt.Token, Logprob: alt.Logprob, Bytes: alt.Bytes})
			}
		}
		lp.Content[i] = TokenLogprob{Token: tok, Logprob: v, TopLogprobs: top}
	}
	return lp
}

// ToChatCompletion converts a completion into the non-streaming reply.
func ToChatCompletion(id string, created int64, model string, c *llm.Completion, o ReplyOptions) ChatCompletion {
	out := ChatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model, Usage: toUsage(c.Usage), Choices: []Choice{}}
	if o.TokenIDs {
		out.PromptTokenIDs = c.PromptTokenIDs
	}
	for i, ch := range c.Choices {
		content := ch.Message.Content
		w := Choice{Index: i, FinishReason: ch.FinishReason,
			Message: ResponseMessage{Role: "assistant", Content: &content, ToolCalls: toToolCalls(ch.Message.ToolCalls, false)}}
		if len(ch.Message.ToolCalls) > 0 && content == "" {
			w.Message.Content = nil
		}
		if w.FinishReason == "" {
			w.FinishReason = "stop"
		}
		if o.Logprobs {
			w.Logprobs = toLogprobs(ch)
		}
		if o.TokenIDs {
			w.TokenIDs = ch.TokenIDs
		}
		out.Choices = append(out.Choices, w)
	}
	return out
}

// ToChunks converts a completion into the chunks of a stream: per choice a
// role chunk, a content chunk (with its logprobs), a tool-call chunk and a
// finish chunk; then, if asked, a usage chunk with no choices.
func ToChunks(id string, created int64, model string, c *llm.Completion, o ReplyOptions) []Chunk {
	mk := func(choices ...ChunkChoice) Chunk {
		return Chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: choices}
	}
	var out []Chunk
	for i, ch := range c.Choices {
		role := mk(ChunkChoice{Index: i, Delta: Delta{Role: "assistant"}})
		if i == 0 && o.TokenIDs {
			role.PromptTokenIDs = c.PromptTokenIDs // vLLM sends them in the first chunk
		}
		out = append(out, role)
		if content := ch.Message.Content; content != "" || len(ch.Logprobs) > 0 {
			cc := ChunkChoice{Index: i, Delta: Delta{Content: &content}}
			if o.Logprobs {
				cc.Logprobs = toLogprobs(ch)
			}
			if o.TokenIDs {
				cc.TokenIDs = ch.TokenIDs
			}
			out = append(out, mk(cc))
		}
		if len(ch.Message.ToolCalls) > 0 {
			out = append(out, mk(ChunkChoice{Index: i, Delta: Delta{ToolCalls: toToolCalls(ch.Message.ToolCalls, true)}}))
		}
		finish := ch.FinishReason
		if finish == "" {
			finish = "stop"
		}
		out = append(out, mk(ChunkChoice{Index: i, FinishReason: &finish}))
	}
	if o.IncludeUsage {
		u := toUsage(c.Usage)
		last := mk()
		last.Choices = []ChunkChoice{}
		last.Usage = &u
		out = append(out, last)
	}
	return out
}
