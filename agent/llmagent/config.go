package llmagent

import (
	"errors"
	"fmt"

	"github.com/sia-agent/sia/llm"
)

// Roles, as Events name them.
const (
	RoleMeta     = "meta"
	RoleFeedback = "feedback"
)

// Config configures a Meta or Feedback agent. Zero values take defaults.
type Config struct {
	// Model answers the agent's turns (required).
	Model llm.Model
	// ModelName overrides the backend's configured model; "" keeps it.
	ModelName   string
	Temperature *float64
	// MaxTurns bounds model calls per session (default 20).
	MaxTurns int
	// MaxTokens bounds prompt plus completion tokens per session (default 1,000,000).
	MaxTokens int
	// MaxReplyTokens is each call's completion limit (default 8192).
	MaxReplyTokens int
	// MaxTryItems caps run_harness' n_items (default 20).
	MaxTryItems int
	// MeasureBudget bounds the item solves of one session's measuring tools
	// (run_harness, measure_harness, search_knobs) together (default
	// 20,000). Their seconds and tokens are charged to the run.
	MeasureBudget int
	// PromptVersion picks the prompt files (default PromptVersion).
	PromptVersion string
	// OnEvent, when set, receives every event of a session as it happens,
	// with Role set; it must not block for long.
	OnEvent func(Event)
}

func (c *Config) applyDefaults() {
	if c.MaxTurns <= 0 {
		c.MaxTurns = DefaultMaxTurns
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.MaxReplyTokens <= 0 {
		c.MaxReplyTokens = DefaultMaxReplyTokens
	}
	if c.MaxTryItems <= 0 {
		c.MaxTryItems = defaultMaxTryItems
	}
	if c.MeasureBudget <= 0 {
		c.MeasureBudget = defaultMeasureBudget
	}
	if c.PromptVersion == "" {
		c.PromptVersion = PromptVersion
	}
}

func (c *Config) validate() error {
	if c.Model == nil {
		return errors.New("llm agent: no model configured")
	}
	if c.MaxTurns < 2 {
		return fmt.Errorf("llm agent: max turns %d is below 2 (one to act, one to finish)", c.MaxTurns)
	}
	return nil
}

func (c *Config) loop(tools []Tool, lastTurnNote, finalNudge string) Loop {
	return Loop{Model: c.Model, ModelName: c.ModelName, Tools: tools, Temperature: c.Temperature, MaxTurns: c.MaxTurns,
		MaxTokens: c.MaxTokens, MaxReplyTokens: c.MaxReplyTokens, LastTurnNote: lastTurnNote, FinalNudge: finalNudge}
}
