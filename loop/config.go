package loop

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/gateway"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/train"
)

// Config is the run's configuration; it is written to run.json.
type Config struct {
	RunID     string       `json:"run_id"`
	Task      string       `json:"task"`
	TaskDir   string       `json:"task_dir,omitempty"`
	MaxGen    int          `json:"max_gen"`
	Mode      string       `json:"mode"`
	Samples   int          `json:"samples"`
	Parallel  int          `json:"parallel"`
	Seed      int64        `json:"seed"`
	Algorithm rl.Algorithm `json:"algorithm,omitempty"` // forced algorithm, "" = the agent picks
	// ItemTimeout bounds one sample's solve.
	ItemTimeout Duration `json:"item_timeout"`
	// TrainItems and TrainSamples size the rollouts a weight update trains
	// on: the incumbent runs on TrainItems items of the train split,
	// TrainSamples times each. Training never uses val or test rewards.
	TrainItems   int `json:"train_items"`
	TrainSamples int `json:"train_samples"`
	// TrainRounds is how many on-policy rounds (roll out, train) one weight
	// update makes (default 1 here; the CLI's default is 2, measured on the
	// demo: the second round adds to the first, a third starts to memorise).
	TrainRounds int `json:"train_rounds,omitempty"`
	// Metric and HigherIsBetter copy the task's metric so `sia show` can
	// read a run folder without the task.
	Metric         string `json:"metric"`
	HigherIsBetter bool   `json:"higher_is_better"`
	MetaProfile    string `json:"meta_profile"`
	TargetProfile  string `json:"target_profile"`
	Trainer        string `json:"trainer"`
	// InitialHarness is where gen 1's harness came from when the user gave
	// one (sia run --harness) instead of the Meta-Agent writing it.
	InitialHarness string `json:"initial_harness,omitempty"`
	// Accept is the rule that makes a verified candidate the incumbent:
	// "any" ("" too, as in runs recorded before the rule existed) keeps any
	// strict improvement of the val score; a level such as "0.05" also asks
	// the paired sign-flip test of the per-item gain over the incumbent for
	// a one-sided p-value below it (package stats).
	Accept string `json:"accept,omitempty"`
	// ConfirmFrac is the share of val held out of selection as the
	// confirmation slice (seeded by Seed; at least 4 items, and only when at
	// least 4 stay for selection): no selection, search rollout or agent
	// sees it; the final incumbent is scored on it once, before the test.
	// 0 holds nothing out.
	ConfirmFrac float64 `json:"confirm_frac,omitempty"`
	// Candidates is how many harness proposals per generation the loop
	// ranks by successive halving on slices of the selection slice before
	// the winner gets the full val rollout (0 or 1: one proposal).
	// CandidateBudget bounds the ranking's solves (item × sample) per
	// generation; 0 is one full selection rollout's worth.
	Candidates      int `json:"candidates,omitempty"`
	CandidateBudget int `json:"candidate_budget,omitempty"`
	// LeverChoice is how the builtin Feedback-Agent picks a lever:
	// agent.LeverRules ("" too) or agent.LeverBandit.
	LeverChoice string `json:"lever_choice,omitempty"`
	// Sandbox is how untrusted python code (harnesses, evaluate.py) was
	// isolated: "bwrap", or "none" when the user turned isolation off; ""
	// when the run started none (Starlark harnesses, Go verifiers).
	Sandbox string `json:"sandbox,omitempty"`
}

// Duration marshals as a Go duration string.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// WithDefaults returns c with its zero fields set to their defaults. It is
// the one place the loop's defaults live, and it is applied once, by
// whoever makes the config (the CLI before it records run.json); Run takes
// the config as given and Validate says what is missing.
func (c Config) WithDefaults() Config {
	if c.RunID == "" {
		c.RunID = "1"
	}
	if c.MaxGen == 0 {
		c.MaxGen = 3
	}
	if c.Mode == "" {
		c.Mode = agent.ModeAuto
	}
	if c.Samples == 0 {
		c.Samples = 1
	}
	if c.Parallel == 0 {
		c.Parallel = runtime.GOMAXPROCS(0)
	}
	if c.ItemTimeout == 0 {
		c.ItemTimeout = Duration(60 * time.Second)
	}
	if c.TrainItems == 0 {
		c.TrainItems = 64
	}
	if c.TrainSamples == 0 {
		c.TrainSamples = 4
	}
	return c
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.RunID == "" {
		return fmt.Errorf("run id is empty")
	}
	switch c.Mode {
	case agent.ModeAuto, agent.ModeHarness, agent.ModeWeights:
	default:
		return fmt.Errorf("mode %q: want harness, weights or auto", c.Mode)
	}
	if c.MaxGen < 1 {
		return fmt.Errorf("max-gen %d: want at least 1", c.MaxGen)
	}
	if c.Samples < 1 || c.Parallel < 1 || c.TrainItems < 1 || c.TrainSamples < 1 {
		return fmt.Errorf("samples, parallel, train-items and train-samples must be positive")
	}
	if c.ItemTimeout <= 0 {
		return fmt.Errorf("item timeout %s: want a positive duration", time.Duration(c.ItemTimeout))
	}
	if c.Algorithm != "" {
		if _, err := rl.ParseAlgorithm(string(c.Algorithm)); err != nil {
			return err
		}
	}
	if _, err := ParseAccept(c.Accept); err != nil {
		return err
	}
	if c.ConfirmFrac < 0 || c.ConfirmFrac > 0.5 {
		return fmt.Errorf("confirm-frac %g: want 0 (none) up to 0.5", c.ConfirmFrac)
	}
	if c.Candidates < 0 || c.CandidateBudget < 0 {
		return fmt.Errorf("candidates and candidate budget must not be negative")
	}
	switch c.LeverChoice {
	case "", agent.LeverRules, agent.LeverBandit:
	default:
		return fmt.Errorf("lever choice %q: want rules or bandit", c.LeverChoice)
	}
	return nil
}

// ErrNoTrainer says a weights-only run has nothing to pull its lever with.
var ErrNoTrainer = errors.New("--mode weights needs a trainer")

// CheckTrainer is the rule that a run in weights mode has a trainer. Run
// applies it; whoever builds the trainer (package backend) applies it too,
// before anything is written, to name the target profile at fault.
func CheckTrainer(mode string, hasTrainer bool) error {
	if mode == agent.ModeWeights && !hasTrainer {
		return ErrNoTrainer
	}
	return nil
}

// AcceptAny is the acceptance rule that keeps any strict improvement.
const AcceptAny = "any"

// ParseAccept reads an acceptance rule: "any" (or "") is 0, else a
// significance level in (0, 0.5].
func ParseAccept(s string) (float64, error) {
	if s == "" || s == AcceptAny {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0 && v <= 0.5) {
		return 0, fmt.Errorf("accept %q: want any, or a significance level in (0, 0.5] such as 0.05", s)
	}
	return v, nil
}

// PolicyFactory builds the task model serving an adapter (version 0 and ""
// = the base). It returns nil, nil when no task model is configured.
type PolicyFactory func(ctx context.Context, adapterDir string, version int) (llm.Model, error)

// Deps are the loop's collaborators, all interfaces or plain values.
type Deps struct {
	Task     *task.Task
	Data     *task.Dataset
	Runtime  harness.Runtime
	Meta     agent.Meta
	Feedback agent.Feedback
	Trainer  train.Trainer // nil: no weights lever
	Policy   PolicyFactory // nil: no task model
	Store    *runstore.Store
	// Gateway serves the task model to out-of-process harnesses; nil when
	// none runs. GatewayURL is its OpenAI base URL.
	Gateway    Gateway
	GatewayURL string
	// Docs is the reference documentation agents may read (docs/*.md).
	Docs fs.FS
	// Progress receives progress; nil discards it.
	Progress func(Progress)
	// Spend reports the run's model spend so far and its limits, for the
	// Feedback-Agent's budget line; nil when nothing is counted.
	Spend func() agent.Budget
}

// Gateway is the part of the model gateway the loop uses: a route per
// rollout, serving that rollout's task model under a key of its own, so
// the served policy is a value handed to each rollout, never shared state.
type Gateway interface {
	Route(p gateway.Policy) *gateway.Route
}

// Progress is a progress report for the CLI.
type Progress struct {
	Kind  string // "step", "items", "notice", "gen_done"
	Gen   int
	Step  string // meta, rollout, verify, decide, train, test
	Done  int
	Total int
	Text  string
	Score float64
}
