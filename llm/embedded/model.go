package embedded

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/tinylm"
)

// Config configures a Model. The zero value is usable.
type Config struct {
	// Name is the model name reported in completions (default "tinylm").
	Name string
	// MaxTokens bounds a completion when the request does not (default 64);
	// a completion never runs past the model's context either way.
	MaxTokens int
	// Temperature is used when the request sets none (default 1).
	Temperature float64
}

func (c *Config) applyDefaults() {
	if c.Name == "" {
		c.Name = "tinylm"
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = 64
	}
	if c.Temperature == 0 {
		c.Temperature = 1
	}
}

// Model serves a tinylm base, optionally with a LoRA adapter, as an
// llm.Model. It is immutable and safe for concurrent use.
type Model struct {
	cfg     Config
	base    *tinylm.Model
	adapter *tinylm.Adapter
	version int
}

var _ llm.Model = (*Model)(nil)

// New serves base with no adapter (adapter version 0).
func New(base *tinylm.Model, cfg Config) (*Model, error) {
	if base == nil {
		return nil, errors.New("embedded model: base is nil")
	}
	cfg.applyDefaults()
	if cfg.MaxTokens < 0 || cfg.Temperature < 0 {
		return nil, fmt.Errorf("embedded model: max tokens %d and temperature %g must not be negative", cfg.MaxTokens, cfg.Temperature)
	}
	return &Model{cfg: cfg, base: base}, nil
}

// WithAdapter returns a new Model serving the base with adapter a (nil: the
// base alone) under the given adapter version; m is unchanged. The adapter
// must not be trained while the returned Model serves it.
func (m *Model) WithAdapter(a *tinylm.Adapter, version int) *Model {
	c := *m
	c.adapter, c.version = a, version
	if a == nil {
		c.version = 0
	}
	return &c
}

// Base returns the base model.
func (m *Model) Base() *tinylm.Model { return m.base }

// Adapter returns the adapter served, nil for the base.
func (m *Model) Adapter() *tinylm.Adapter { return m.adapter }

// AdapterVersion returns the adapter version served (0 = base).
func (m *Model) AdapterVersion() int { return m.version }

// Chat implements llm.Model.
func (m *Model) Chat(ctx context.Context, req llm.Request) (*llm.Completion, error) {
	if err := req.Unsupported("embedded model", llm.Capabilities{}); err != nil {
		return nil, err
	}
	if len(req.Tools) > 0 {
		return nil, errors.New("embedded model: tool calling is not supported (the harness must dispatch tools itself)")
	}
	if len(req.Messages) == 0 {
		return nil, errors.New("embedded model: request has no messages")
	}
	prompt, err := EncodeChat(req.Messages, true)
	if err != nil {
		return nil, fmt.Errorf("embedded model: %w", err)
	}
	ctxLen := m.base.Config().Context
	if len(prompt) >= ctxLen {
		return nil, fmt.Errorf("embedded model: prompt of %d tokens leaves no room in the %d-token context", len(prompt), ctxLen)
	}
	opt, err := m.sampleOptions(req, ctxLen-len(prompt))
	if err != nil {
		return nil, err
	}
	samples, err := m.base.Sample(ctx, m.adapter, prompt, opt)
	if err != nil {
		return nil, fmt.Errorf("embedded model: sample: %w", err)
	}
	tok := tinylm.NewTokenizer()
	comp := &llm.Completion{
		Model:          m.cfg.Name,
		PromptTokenIDs: prompt,
		AdapterVersion: m.version,
		Usage:          llm.Usage{PromptTokens: len(prompt)},
	}
	for _, s := range samples {
		ch := toChoice(tok, s, req.Stop)
		comp.Usage.CompletionTokens += len(ch.TokenIDs)
		comp.Choices = append(comp.Choices, ch)
	}
	return comp, nil
}

func (m *Model) sampleOptions(req llm.Request, room int) (tinylm.SampleOptions, error) {
	o := tinylm.SampleOptions{
		N:           max(req.N, 1),
		MaxTokens:   m.cfg.MaxTokens,
		Temperature: m.cfg.Temperature,
		TopP:        1,
		StopTokens:  []int{tinylm.TokEndTurn, tinylm.TokEOS},
	}
	if req.N < 0 {
		return o, fmt.Errorf("embedded model: n %d must not be negative", req.N)
	}
	if req.MaxTokens > 0 {
		o.MaxTokens = req.MaxTokens
	}
	o.MaxTokens = min(o.MaxTokens, room)
	if req.Temperature != nil {
		if *req.Temperature < 0 {
			return o, fmt.Errorf("embedded model: temperature %g must not be negative", *req.Temperature)
		}
		o.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		if *req.TopP <= 0 || *req.TopP > 1 {
			return o, fmt.Errorf("embedded model: top_p %g must be in (0, 1]", *req.TopP)
		}
		o.TopP = *req.TopP
	}
	if req.Seed != nil {
		o.Seed = *req.Seed
	} else {
		o.Seed = rand.Int64() // the caller asked for no reproducibility
	}
	return o, nil
}

// toChoice turns one sample into a choice. A stop token ends the text but
// stays in the ids (it was sampled); a stop string cuts the text, ids and
// logprobs at the token where it begins.
func toChoice(tok *tinylm.Tokenizer, s tinylm.Sampled, stops []string) llm.Choice {
	ids, lps := s.Tokens, s.Logprobs
	finish := s.FinishReason
	textIDs := ids
	if n := len(ids); n > 0 && (ids[n-1] == tinylm.TokEndTurn || ids[n-1] == tinylm.TokEOS) {
		textIDs = ids[:n-1]
		finish = "stop"
	}
	if cut, ok := stopCut(tok, textIDs, stops); ok {
		ids, lps, textIDs = ids[:cut], lps[:min(cut, len(lps))], textIDs[:cut]
		finish = "stop"
	}
	if finish == "" {
		finish = "length"
	}
	return llm.Choice{
		Message:      llm.Message{Role: llm.RoleAssistant, Content: tok.Decode(textIDs)},
		FinishReason: finish,
		TokenIDs:     append([]int(nil), ids...),
		Logprobs:     append([]float64(nil), lps...),
	}
}

// stopCut finds the earliest stop string in the decoded ids and returns the
// number of tokens before it. Tokens are bytes, so the cut is exact.
func stopCut(tok *tinylm.Tokenizer, ids []int, stops []string) (int, bool) {
	if len(stops) == 0 {
		return 0, false
	}
	// Byte offset of each token's start, to map a text position to a token.
	text := strings.Builder{}
	start := make([]int, 0, len(ids)+1)
	for _, id := range ids {
		start = append(start, text.Len())
		text.WriteString(tok.Decode([]int{id}))
	}
	best := -1
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text.String(), s); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	for k, off := range start {
		if off >= best {
			return k, true
		}
	}
	return len(ids), true
}
