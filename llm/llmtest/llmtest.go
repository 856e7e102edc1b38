package llmtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/sia-agent/sia/llm"
)

// Responder computes a reply for a request; call is the 0-based call count.
type Responder func(call int, req llm.Request) (*llm.Completion, error)

// Model is the fake.
type Model struct {
	mu      sync.Mutex
	name    string
	respond Responder
	calls   []llm.Request
}

var _ llm.Model = (*Model)(nil)

// New returns a fake that answers with respond.
func New(name string, respond Responder) *Model { return &Model{name: name, respond: respond} }

// Script returns a fake that replies with texts in order, then errors.
func Script(texts ...string) *Model {
	return New("scripted", func(call int, req llm.Request) (*llm.Completion, error) {
		if call >= len(texts) {
			return nil, fmt.Errorf("llmtest: script has %d replies, call %d", len(texts), call)
		}
		return Text(texts[call]), nil
	})
}

// Text builds a one-choice completion.
func Text(s string) *llm.Completion {
	return &llm.Completion{Model: "fake", Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: s}, FinishReason: "stop"}}}
}

// Chat implements llm.Model.
func (m *Model) Chat(ctx context.Context, req llm.Request) (*llm.Completion, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	call := len(m.calls)
	m.calls = append(m.calls, req)
	m.mu.Unlock()
	c, err := m.respond(call, req)
	if c != nil && c.Model == "" {
		c.Model = m.name
	}
	return c, err
}

// Calls returns the requests seen so far.
func (m *Model) Calls() []llm.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]llm.Request(nil), m.calls...)
}
