package llmagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"unicode/utf8"

	"github.com/sia-agent/sia/llm"
)

// Default limits of a Loop.
const (
	DefaultMaxTurns       = 20
	DefaultMaxTokens      = 1_000_000
	DefaultMaxReplyTokens = 8192
	DefaultMaxToolOutput  = 24_000
)

// ErrTurnLimit and ErrTokenLimit end a session that did not finish in time.
var (
	ErrTurnLimit  = errors.New("turn limit reached")
	ErrTokenLimit = errors.New("token limit reached")
)

// EventKind says what an Event reports.
type EventKind string

// Event kinds, in the order a turn produces them.
const (
	EventModelTurn  EventKind = "model_turn"  // the model replied
	EventToolCall   EventKind = "tool_call"   // a tool is about to run
	EventToolResult EventKind = "tool_result" // a tool returned
	EventFinal      EventKind = "final"       // the session ended normally
	// EventLimit is sent by Meta and Feedback (not by Loop, which returns
	// the error) when a session hits its turn or token limit.
	EventLimit EventKind = "limit"
)

// Event is one step of a session, for progress display and logs.
type Event struct {
	Kind EventKind `json:"kind"`
	// Role is the agent that ran the session (RoleMeta, RoleFeedback); ""
	// from a bare Loop.
	Role string `json:"role,omitempty"`
	Turn int    `json:"turn"` // 1-based model turn
	// Text is the model's text (model_turn, final) or the tool's output
	// (tool_result).
	Text string `json:"text,omitempty"`
	// Call is the tool call (tool_call, tool_result).
	Call *llm.ToolCall `json:"call,omitempty"`
	// IsError marks a tool result that reports an error to the model.
	IsError bool `json:"is_error,omitempty"`
	// Usage is the session's total so far.
	Usage llm.Usage `json:"usage"`
	// PromptChars is the size of the request that produced a model_turn:
	// the characters of every message (tool calls and results included)
	// and of the tool declarations the model was sent.
	PromptChars int `json:"prompt_chars,omitempty"`
}

// ToolFunc runs a tool on its JSON arguments. An error is reported to the
// model as the tool's result, not to the caller: the model may correct
// itself.
type ToolFunc func(ctx context.Context, args json.RawMessage) (string, error)

// Tool is a tool the model may call.
type Tool struct {
	Spec llm.Tool
	Run  ToolFunc
	// Final ends the session after the turn in which it succeeds.
	Final bool
}

// Loop runs one tool-use session. The zero value of each limit takes its
// default.
type Loop struct {
	Model llm.Model
	// ModelName overrides the backend's configured model; "" keeps it.
	ModelName   string
	Tools       []Tool
	Temperature *float64
	// MaxTurns bounds model calls.
	MaxTurns int
	// MaxTokens bounds prompt plus completion tokens over the session; no
	// call starts once it is reached.
	MaxTokens int
	// MaxReplyTokens is each call's completion limit.
	MaxReplyTokens int
	// MaxToolOutput truncates each tool result to this many bytes.
	MaxToolOutput int
	// LastTurnNote is appended to the tool results sent before the final
	// allowed turn, so the model can wrap up (e.g. "call submit_decision").
	LastTurnNote string
	// FinalNudge, when set, is sent as a user message if the model ends its
	// turn without calling a tool while a Final tool has not yet succeeded;
	// models often answer in prose first. At most maxNudges are sent, then
	// the session ends normally.
	FinalNudge string
}

// maxNudges bounds FinalNudge messages per session.
const maxNudges = 2

func (l Loop) withDefaults() Loop {
	if l.MaxTurns <= 0 {
		l.MaxTurns = DefaultMaxTurns
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = DefaultMaxTokens
	}
	if l.MaxReplyTokens <= 0 {
		l.MaxReplyTokens = DefaultMaxReplyTokens
	}
	if l.MaxToolOutput <= 0 {
		l.MaxToolOutput = DefaultMaxToolOutput
	}
	return l
}

// Run starts the session from messages (system and user prompt) and yields
// its events. It stops when the consumer stops, on the first error (a model
// error, ErrTurnLimit, ErrTokenLimit or ctx's error), or after the final
// event.
func (l Loop) Run(ctx context.Context, messages []llm.Message) iter.Seq2[Event, error] {
	l = l.withDefaults()
	return func(yield func(Event, error) bool) {
		if l.Model == nil {
			yield(Event{}, errors.New("agent loop: no model"))
			return
		}
		tools := make(map[string]Tool, len(l.Tools))
		specs := make([]llm.Tool, 0, len(l.Tools))
		for _, t := range l.Tools {
			if _, dup := tools[t.Spec.Name]; dup {
				yield(Event{}, fmt.Errorf("agent loop: tool %q declared twice", t.Spec.Name))
				return
			}
			tools[t.Spec.Name] = t
			specs = append(specs, t.Spec)
		}
		msgs := append([]llm.Message(nil), messages...)
		var used llm.Usage
		nudges := 0
		for turn := 1; ; turn++ {
			if err := ctx.Err(); err != nil {
				yield(Event{}, err)
				return
			}
			if turn > l.MaxTurns {
				yield(Event{}, fmt.Errorf("agent loop after %d turns: %w", l.MaxTurns, ErrTurnLimit))
				return
			}
			if total := used.PromptTokens + used.CompletionTokens; total >= l.MaxTokens {
				yield(Event{}, fmt.Errorf("agent loop at %d of %d tokens: %w", total, l.MaxTokens, ErrTokenLimit))
				return
			}
			req := llm.Request{Model: l.ModelName, Messages: msgs, Tools: specs, Temperature: l.Temperature, MaxTokens: l.MaxReplyTokens}
			c, err := l.Model.Chat(ctx, req)
			if err != nil {
				yield(Event{}, fmt.Errorf("agent loop turn %d: %w", turn, err))
				return
			}
			if c == nil || len(c.Choices) == 0 {
				yield(Event{}, fmt.Errorf("agent loop turn %d: model returned no choices", turn))
				return
			}
			used = used.Add(c.Usage)
			reply := c.Choices[0].Message
			reply.Role = llm.RoleAssistant
			msgs = append(msgs, reply)
			if !yield(Event{Kind: EventModelTurn, Turn: turn, Text: reply.Content, Usage: used, PromptChars: requestChars(req)}, nil) {
				return
			}
			if len(reply.ToolCalls) == 0 {
				if l.FinalNudge != "" && nudges < maxNudges && hasFinal(l.Tools) {
					nudges++
					if reply.Content == "" { // providers refuse empty assistant turns
						msgs[len(msgs)-1].Content = "(no reply)"
					}
					msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: l.FinalNudge})
					continue
				}
				yield(Event{Kind: EventFinal, Turn: turn, Text: reply.Content, Usage: used}, nil)
				return
			}
			finished := false
			results := make([]llm.Message, 0, len(reply.ToolCalls))
			for i := range reply.ToolCalls {
				call := reply.ToolCalls[i]
				if !yield(Event{Kind: EventToolCall, Turn: turn, Call: &call, Usage: used}, nil) {
					return
				}
				out, isErr, final := l.runTool(ctx, tools, call)
				if err := ctx.Err(); err != nil {
					yield(Event{}, err)
					return
				}
				finished = finished || final
				results = append(results, llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: out})
				if !yield(Event{Kind: EventToolResult, Turn: turn, Call: &call, Text: out, IsError: isErr, Usage: used}, nil) {
					return
				}
			}
			if finished {
				yield(Event{Kind: EventFinal, Turn: turn, Text: reply.Content, Usage: used}, nil)
				return
			}
			if turn+1 == l.MaxTurns && l.LastTurnNote != "" && len(results) > 0 {
				last := &results[len(results)-1]
				last.Content += "\n\n" + l.LastTurnNote
			}
			msgs = append(msgs, results...)
		}
	}
}

func hasFinal(tools []Tool) bool {
	for _, t := range tools {
		if t.Final {
			return true
		}
	}
	return false
}

// runTool runs one call and returns the text for the model, whether it is
// an error, and whether a final tool succeeded.
func (l Loop) runTool(ctx context.Context, tools map[string]Tool, call llm.ToolCall) (string, bool, bool) {
	t, ok := tools[call.Name]
	if !ok {
		return fmt.Sprintf("error: unknown tool %q", call.Name), true, false
	}
	args := call.Arguments
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	if !json.Valid(args) {
		return fmt.Sprintf("error: arguments of %s are not valid JSON", call.Name), true, false
	}
	out, err := t.Run(ctx, args)
	if err != nil {
		return truncate("error: "+err.Error(), l.MaxToolOutput), true, false
	}
	return truncate(out, l.MaxToolOutput), false, t.Final
}

// truncate cuts s to at most n bytes on a rune boundary and says so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("\n[truncated: %d of %d bytes shown]", cut, len(s))
}

// requestChars measures a request as the model reads it: message texts,
// tool-call arguments and tool declarations.
func requestChars(req llm.Request) int {
	n := 0
	for _, m := range req.Messages {
		n += utf8.RuneCountInString(m.Content)
		for _, c := range m.ToolCalls {
			n += utf8.RuneCountInString(c.Name) + utf8.RuneCount(c.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += utf8.RuneCountInString(t.Name) + utf8.RuneCountInString(t.Description) + utf8.RuneCount(t.Parameters)
	}
	return n
}
