package agent

import "github.com/sia-agent/sia/rl"

// MemoryVersion is the format version of memory.json (runstore.MemoryFile).
const MemoryVersion = 1

// Memory is a run's record of every change tried, what it gained on val,
// whether that carried to test where the run knows, and what it cost. The
// loop rebuilds it from the run folder after each generation (so it
// survives kills and resumes) and hands it to each Feedback-Agent.
type Memory struct {
	FormatVersion int    `json:"format_version"`
	Task          string `json:"task"`
	Metric        string `json:"metric"`
	Higher        bool   `json:"higher_is_better"`
	// Baseline is the task's reference harness, scored beside generation 1
	// when the Meta-Agent changed it; nil otherwise.
	Baseline *Baseline `json:"baseline,omitempty"`
	Changes  []Change  `json:"changes"`
}

// Baseline is the reference harness's scores, on the same val and test
// items and sample seeds as the generations.
type Baseline struct {
	HarnessSHA string   `json:"harness_sha"`
	Val        float64  `json:"val"`
	Test       *float64 `json:"test,omitempty"`
}

// Change is one generation: the lever pulled on its parent and its effect.
type Change struct {
	Gen            int          `json:"gen"`
	Parent         int          `json:"parent,omitempty"` // 0 for gen 1
	Lever          string       `json:"lever"`            // initial, harness or weights
	Algorithm      rl.Algorithm `json:"algorithm,omitempty"`
	HarnessSHA     string       `json:"harness_sha"`
	AdapterVersion int          `json:"adapter_version"`
	// Summary says what changed in one line; Diff is the harness's unified
	// diff against the parent's (clipped), Knobs the knob settings changed.
	Summary    string       `json:"summary"`
	Diff       string       `json:"diff,omitempty"`
	Knobs      []KnobChange `json:"knobs,omitempty"`
	Hypothesis string       `json:"hypothesis,omitempty"`
	// Val is this generation's val score, ParentVal its parent's. Gain is
	// Val − ParentVal; GainSE is its paired standard error over the val
	// items both rolled out (nil when it cannot be paired).
	Val       float64  `json:"val"`
	ParentVal *float64 `json:"parent_val,omitempty"`
	Gain      *float64 `json:"gain,omitempty"`
	GainSE    *float64 `json:"gain_se,omitempty"`
	Paired    int      `json:"paired_items,omitempty"`
	Accepted  bool     `json:"accepted"`
	// Test and ParentTest are held-out scores where the run has them (the
	// final incumbent, the baseline); Carried says whether the val gain's
	// sign held on test, when both are known.
	Test       *float64 `json:"test,omitempty"`
	ParentTest *float64 `json:"parent_test,omitempty"`
	Carried    *bool    `json:"carried_to_test,omitempty"`
	DurationS  float64  `json:"duration_s"`
	Tokens     int      `json:"tokens"`
	CostUSD    float64  `json:"cost_usd,omitempty"`
}

// KnobChange is one knob setting a harness change moved.
type KnobChange struct {
	Knob string `json:"knob"`
	From any    `json:"from"` // nil: not set (the first KNOBS candidate)
	To   any    `json:"to"`
}
