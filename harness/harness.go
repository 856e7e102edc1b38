package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"sort"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// Source is one harness version: its code and its knob settings. The pair
// is what the harness lever edits; SHA identifies it in trajectories.
type Source struct {
	// Name is the file name: harness.star or target_agent.py.
	Name string `json:"name"`
	Code []byte `json:"-"`
	// Knobs picks a value for some of the harness's declared KNOBS; a knob
	// not set here takes its first candidate. Written as knobs.json.
	Knobs map[string]any `json:"knobs,omitempty"`
}

// SHA is a short content hash of code and knobs.
func (s Source) SHA() string {
	h := sha256.New()
	h.Write(s.Code)
	keys := make([]string, 0, len(s.Knobs))
	for k := range s.Knobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := json.Marshal(s.Knobs[k])
		h.Write([]byte("\x00" + k + "=" + string(v)))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Env is what a harness may reach. There is no other door to files, network
// or labels.
type Env struct {
	// Model is the task model; nil when none is configured (model.chat then
	// fails with llm.ErrNoModel).
	Model llm.Model
	// TaskDoc is task.md.
	TaskDoc string
	// Train is the labelled train split, for setup.
	Train []task.Example
	// Public is the task's public data folder (read-only).
	Public fs.FS
	// PublicDir is Public's path on disk, "" when in memory (python needs it).
	PublicDir string
	// Seed makes any randomness in the harness reproducible.
	Seed int64
}

// Decl is what a loaded harness declares about itself.
type Decl struct {
	// Knobs maps each tunable knob to its candidate values, as declared.
	Knobs map[string][]any `json:"knobs"`
	// Order lists the knob names in declaration order (the builtin
	// feedback agent searches them in this order).
	Order []string `json:"order"`
	// Settings is the value each knob takes in this version.
	Settings map[string]any `json:"settings"`
}

// Sample identifies one rollout sample of an item.
type Sample struct {
	Index int // 0..K-1
	// Seed is derived from (run seed, generation, item, sample); the harness
	// derives per-call sampling seeds from it so reruns are identical.
	Seed int64
	Rec  *trajectory.Recorder
}

// Harness is a loaded harness, ready to solve items. Solve is safe for
// concurrent use.
type Harness interface {
	// Solve returns the answer to one item. Everything it does goes into
	// s.Rec. It must return promptly when ctx ends.
	Solve(ctx context.Context, item task.Item, s Sample) (string, error)
	Decl() Decl
	Close() error
}

// Runtime loads harness sources of one kind.
type Runtime interface {
	// Load compiles src, runs its setup against env, and returns a harness.
	// ctx bounds setup.
	Load(ctx context.Context, src Source, env Env) (Harness, error)
}

// Inspector is implemented by runtimes that can read a source's declared
// knobs without running setup (the builtin feedback agent uses it).
type Inspector interface {
	Inspect(src Source) (Decl, error)
}
