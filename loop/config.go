package loop

import (
	"context"
	"fmt"
	"io/fs"
	"runtime"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
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

// ApplyDefaults fills zero fields.
func (c *Config) ApplyDefaults() {
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
}

// Validate checks the config.
func (c Config) Validate() error {
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
	return nil
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
	// none runs. GatewayURL and GatewayKey are its OpenAI base URL and key.
	Gateway    Gateway
	GatewayURL string
	GatewayKey string
	// Docs is the reference documentation agents may read (docs/*.md).
	Docs fs.FS
	// Progress receives progress; nil discards it.
	Progress func(Progress)
	// Spend reports the run's model spend so far and its limits, for the
	// Feedback-Agent's budget line; nil when nothing is counted.
	Spend func() agent.Budget
}

// Gateway is the part of the model gateway the loop uses: it points the
// served policy at the model of the generation being rolled out, and routes
// tagged calls into a sample's recorder.
type Gateway interface {
	SetPolicy(m llm.Model, version int, name string)
	Register(item string, sample int, rec *trajectory.Recorder) (unregister func())
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
