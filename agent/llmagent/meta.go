package llmagent

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
)

// Meta is the LLM Meta-Agent: it writes the first harness into the
// generation folder, starting from the task's reference harness.
type Meta struct {
	cfg     Config
	prompts *prompts
}

var _ agent.Meta = (*Meta)(nil)

// NewMeta checks cfg and loads its prompts.
func NewMeta(cfg Config) (*Meta, error) {
	cfg, p, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	return &Meta{cfg: cfg, prompts: p}, nil
}

// Initial runs a session in which the model edits the reference harness,
// seeded into in.GenDir, and returns the harness it leaves there (with
// knobs.json's settings). A session cut short by the turn or token limit
// still returns what was written, since the reference it started from is a
// working harness; the limit is reported through OnEvent.
func (m *Meta) Initial(ctx context.Context, in agent.MetaInput) (harness.Source, error) {
	ws, err := openWorkspace(in.GenDir, in.Public, in.Docs)
	if err != nil {
		return harness.Source{}, fmt.Errorf("meta agent: %w", err)
	}
	defer ws.Close()
	name := harnessName(in.Reference, in.Runtime)
	if len(in.Reference.Code) > 0 {
		if err := seedSource(ws, name, in.Reference); err != nil {
			return harness.Source{}, fmt.Errorf("meta agent: seed reference harness: %w", err)
		}
	}
	msgs, err := m.messages(in, name)
	if err != nil {
		return harness.Source{}, fmt.Errorf("meta agent: %w", err)
	}
	b := newBench(ws, name, in.Measure, in.TrainSize, m.cfg, 1)
	tools := append(fileTools(ws), workbenchTools(b, loadHarnessDocs(in.Docs))...)
	loop := m.cfg.loop(tools, "Only one turn is left: finish the harness now and reply with your summary.", "")
	err = drain(ctx, loop.Run(ctx, msgs), RoleMeta, m.cfg.OnEvent)
	if err != nil && !errors.Is(err, ErrTurnLimit) && !errors.Is(err, ErrTokenLimit) {
		return harness.Source{}, fmt.Errorf("meta agent: %w", err)
	}
	src, rerr := readSource(ws, name)
	if rerr != nil {
		if err != nil {
			return harness.Source{}, fmt.Errorf("meta agent: %w; and %w", err, rerr)
		}
		return harness.Source{}, fmt.Errorf("meta agent: the model left no usable harness: %w", rerr)
	}
	return src, nil
}

func (m *Meta) messages(in agent.MetaInput, name string) ([]llm.Message, error) {
	d := newMetaData(&in, name, m.cfg)
	sys, err := m.prompts.render(promptMetaSystem, d)
	if err != nil {
		return nil, err
	}
	user, err := m.prompts.render(promptMetaUser, d)
	if err != nil {
		return nil, err
	}
	return []llm.Message{{Role: llm.RoleSystem, Content: sys}, {Role: llm.RoleUser, Content: user}}, nil
}

// drain runs a session to its end, passing each event to onEvent, and
// returns the session's error.
func drain(ctx context.Context, events iter.Seq2[Event, error], role string, onEvent func(Event)) error {
	for ev, err := range events {
		if err != nil {
			if onEvent != nil && (errors.Is(err, ErrTurnLimit) || errors.Is(err, ErrTokenLimit)) {
				onEvent(Event{Kind: EventLimit, Role: role, Text: err.Error()})
			}
			return err
		}
		if onEvent != nil {
			ev.Role = role
			onEvent(ev)
		}
	}
	return ctx.Err()
}

func trimNewlines(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// prepare applies defaults, checks cfg and loads its prompts: what both
// roles need before a session.
func prepare(cfg Config) (Config, *prompts, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return cfg, nil, err
	}
	p, err := loadPrompts(cfg.PromptVersion)
	return cfg, p, err
}
