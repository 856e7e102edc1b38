package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/sia-agent/sia/jsonnum"
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
	// Public is the task's data as this harness may see it: a data view
	// (package dataview) for the items being solved — held-out rows taken
	// out of every file, no labels of what is being solved. Read-only.
	Public fs.FS
	// Seed makes any randomness in the harness reproducible.
	Seed int64
	// Gateway lets out-of-process harnesses reach the task model; zero
	// when no gateway runs.
	Gateway Gateway
	// SetupLog receives the log lines a harness writes while it loads (a
	// Starlark harness's top level and setup), where there is no item
	// trajectory to hold them; nil leaves them to the runtime's default.
	SetupLog func(line string)
}

// Gateway is the OpenAI-compatible endpoint serving the task model to
// out-of-process harnesses. Calls tagged (item, sample) — header X-SIA-Item
// "item=<id>;sample=<k>" or the user field — land in the recorder
// registered for that sample.
type Gateway struct {
	BaseURL  string // for OPENAI_BASE_URL, e.g. http://127.0.0.1:41234/v1
	APIKey   string // the rollout's own random key (its gateway route), for OPENAI_API_KEY
	Register func(item string, sample int, rec *trajectory.Recorder) (unregister func())
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
	// Seed is derived from (run seed, stream, item, sample); the harness
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

// Batch is implemented by harnesses that solve a whole split in one run
// (SIA's target_agent.py contract). The rollout then calls SolveAll once per
// sample index instead of Solve per item; recs holds each item's recorder.
// An item missing from answers counts as unanswered.
type Batch interface {
	SolveAll(ctx context.Context, items []task.Item, sample int, seed int64, recs map[string]*trajectory.Recorder) (map[string]string, error)
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

// FixJSONNumbers restores the types of a Decl decoded from JSON with
// UseNumber: integral knob values become int64, others float64, as
// ParseKnobs reads knobs.json.
func (d *Decl) FixJSONNumbers() {
	for k, vals := range d.Knobs {
		for i := range vals {
			vals[i] = jsonnum.Convert(vals[i], jsonnum.IntOrFloat)
		}
		d.Knobs[k] = vals
	}
	for k, v := range d.Settings {
		d.Settings[k] = jsonnum.Convert(v, jsonnum.IntOrFloat)
	}
}

// KnobsFile is the file a harness version's knob settings live in.
const KnobsFile = "knobs.json"

// ParseKnobs decodes knobs.json. Integral numbers become int64 and others
// float64, so a setting keeps its Starlark type (3 stays an int, and
// range(n) works).
func ParseKnobs(b []byte) (map[string]any, error) {
	v, err := jsonnum.Decode(b, jsonnum.IntOrFloat)
	knobs, ok := v.(map[string]any)
	if err == nil && !ok && v != nil {
		err = errors.New("not an object")
	}
	if err != nil {
		return nil, fmt.Errorf("%s must be a JSON object of knob settings: %w", KnobsFile, err)
	}
	if len(knobs) == 0 {
		return nil, nil
	}
	return knobs, nil
}
