package agent

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// Actions a Feedback-Agent may take.
const (
	ActionHarness = "harness" // rewrite the harness, weights fixed
	ActionWeights = "weights" // update the weights, harness fixed
	ActionStop    = "stop"
)

// Modes (operating points).
const (
	ModeHarness = "harness" // SIA-H: harness lever only
	ModeWeights = "weights" // weights lever only after gen 1
	ModeAuto    = "auto"    // SIA-W+H
)

// Decision is a Feedback-Agent's choice for the next generation. It is
// written to gen_<n>/decision.json; the improvement fields become
// improvement.md.
type Decision struct {
	Action      string       `json:"action"`
	Algorithm   rl.Algorithm `json:"algorithm,omitempty"`
	Rationale   string       `json:"rationale"`
	RewardStats rl.Stats     `json:"reward_stats"`
	// Recommended is the rule table's algorithm, kept beside the choice so an
	// override is visible.
	Recommended rl.Algorithm `json:"recommended,omitempty"`

	Hypothesis string `json:"hypothesis,omitempty"`
	Evidence   string `json:"evidence,omitempty"`
	Change     string `json:"change,omitempty"`
	Expected   string `json:"expected,omitempty"`
	Risk       string `json:"risk,omitempty"`
}

// GenSummary is one past generation as agents see it.
type GenSummary struct {
	Gen            int            `json:"gen"`
	Action         string         `json:"action"`
	Algorithm      rl.Algorithm   `json:"algorithm,omitempty"`
	Score          float64        `json:"score"`
	HarnessSHA     string         `json:"harness_sha"`
	Knobs          map[string]any `json:"knobs,omitempty"`
	AdapterVersion int            `json:"adapter_version"`
	Rationale      string         `json:"rationale,omitempty"`
}

// MetaInput is what the Meta-Agent gets to write the first harness.
type MetaInput struct {
	TaskName string
	TaskDoc  string
	// Reference is the task's reference harness.
	Reference harness.Source
	// Runtime is "starlark" or "python".
	Runtime string
	// GenDir is the generation folder the agent may write into.
	GenDir string
	// Try runs a candidate harness on n val items, gold-free (for LLM agents'
	// run_harness tool); nil when not offered.
	Try TryFunc
	// Public is the task's public data folder, read-only to LLM agents; nil
	// when absent. Pass an fs.FS that cannot follow symlinks out of the
	// folder (os.Root.FS, fs.Sub of one, or an embed/MapFS).
	Public fs.FS
	// Docs is the docs/ folder (docs/harness.md is the harness API
	// reference), read-only to LLM agents; nil when absent.
	Docs fs.FS
	// SampleTasks (reference/SAMPLE_TASK_DESCRIPTIONS.md) and
	// SampleExecution (../_shared/sample_agent_execution.json) are what a
	// SIA task folder gives SIA's Meta-Agent besides task.md: example
	// task descriptions and a sample logged trajectory. "" when absent.
	SampleTasks     string
	SampleExecution string
}

// TryFunc runs a harness on n val items and returns gold-free verdicts.
type TryFunc func(ctx context.Context, src harness.Source, n int) ([]verify.ItemResult, error)

// FeedbackInput is what the Feedback-Agent gets each generation.
type FeedbackInput struct {
	TaskName string
	TaskDoc  string
	Mode     string
	Gen      int // the generation just verified
	// Current is the harness that produced this generation; Incumbent is the
	// best so far (the base for the next harness edit).
	Current   harness.Source
	Incumbent harness.Source
	Decl      harness.Decl // the incumbent's declared knobs
	History   []GenSummary
	Higher    bool
	// Results is this generation's gold-free verdict on val.
	Results *verify.Result
	// Rollouts is this generation's trajectories (rewards, answers, steps; no gold).
	Rollouts []trajectory.Trajectory
	Stats    rl.Stats
	// Recommended is the rule table's algorithm for Stats.
	Recommended rl.Algorithm
	// ForcedAlgorithm is --algorithm, "" when free.
	ForcedAlgorithm rl.Algorithm
	// CanTrain is false when no trainer is available.
	CanTrain bool
	// RemainingGens counts generations left after this one.
	RemainingGens int
	GenDir        string
	Try           TryFunc
	Seed          int64
	// Public and Docs are as in MetaInput.
	Public fs.FS
	Docs   fs.FS
}

// FeedbackOutput is a decision plus, for the harness action, the new harness.
type FeedbackOutput struct {
	Decision Decision
	Harness  *harness.Source // set when Decision.Action == ActionHarness
}

// Meta writes the first harness.
type Meta interface {
	Initial(ctx context.Context, in MetaInput) (harness.Source, error)
}

// Feedback picks one lever per generation.
type Feedback interface {
	Decide(ctx context.Context, in FeedbackInput) (FeedbackOutput, error)
}

// Fallback is a Feedback-Agent that asks Primary and, when it fails to
// decide (a turn or token limit, a provider error), asks Secondary, so one
// bad LLM session does not end a run. The rationale says it happened.
type Fallback struct {
	Primary, Secondary Feedback
	// OnFallback, when set, is told why the primary failed.
	OnFallback func(err error)
}

// Decide implements Feedback.
func (f Fallback) Decide(ctx context.Context, in FeedbackInput) (FeedbackOutput, error) {
	out, err := f.Primary.Decide(ctx, in)
	if err == nil || ctx.Err() != nil {
		return out, err
	}
	if f.OnFallback != nil {
		f.OnFallback(err)
	}
	out, err2 := f.Secondary.Decide(ctx, in)
	if err2 != nil {
		return out, fmt.Errorf("%w; fallback agent: %v", err, err2)
	}
	out.Decision.Rationale = fmt.Sprintf("(primary agent failed: %v) %s", err, out.Decision.Rationale)
	return out, nil
}
