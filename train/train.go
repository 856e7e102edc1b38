package train

import (
	"context"
	"errors"

	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/trajectory"
)

// Request asks for one weight update.
type Request struct {
	Run string
	Gen int // the generation whose rollouts are trained on
	// Algorithm is the RL algorithm the Feedback-Agent chose.
	Algorithm rl.Algorithm
	// Rollouts are the generation's trajectories, token ids and sampling
	// logprobs as sampled.
	Rollouts []trajectory.Trajectory
	// Parent is the adapter directory to continue from ("" = from the base).
	Parent string
	// ParentVersion is the parent adapter's version (0 = base).
	ParentVersion int
	// Version is the version number the new adapter gets.
	Version int
	// OutDir is where the new adapter (PEFT layout) is written.
	OutDir string
	// MetricsPath is where per-step metrics go (gen_<n>/train.jsonl).
	MetricsPath string
	Seed        int64
}

// Result describes the new adapter.
type Result struct {
	Version    int                `json:"version"`
	AdapterDir string             `json:"adapter_dir"`
	Name       string             `json:"name,omitempty"` // served name, e.g. policy-v0003
	Metrics    map[string]float64 `json:"metrics"`        // final loss, kl, reward, clip_frac …
}

// Trainer performs weight updates.
type Trainer interface {
	Train(ctx context.Context, req Request) (*Result, error)
}

// ErrNothingToTrain is returned (wrapped) when an update would train no
// unit under its algorithm — every advantage 0, no sample to clone, no
// preference pair, or rewards that are all equal — so no adapter version
// is written for it. The caller keeps the parent adapter.
var ErrNothingToTrain = errors.New("nothing to train: the update has no training unit")

// ErrUnsupported is returned (wrapped) when a backend cannot express an
// algorithm; the message says which backend can.
var ErrUnsupported = errors.New("algorithm not supported by this trainer")
