package trajectory

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sia-agent/sia/llm"
)

// FormatVersion is written into every trajectory line.
const FormatVersion = 1

// Step kinds.
const (
	KindModel = "model" // one sampled completion (one per choice when n > 1)
	KindTool  = "tool"  // a builtin or tool call made by the harness
	KindLog   = "log"   // a log(...) line from the harness
	KindError = "error" // an error the harness hit (timeout, panic, exception)
)

// Step is one thing that happened while solving an item.
type Step struct {
	Kind string  `json:"kind"`
	T    float64 `json:"t"` // seconds since the sample started

	// Model steps.
	Model              string        `json:"model,omitempty"`
	Messages           []llm.Message `json:"messages,omitempty"`
	Choice             int           `json:"choice,omitempty"` // index within an n>1 call
	Completion         string        `json:"completion,omitempty"`
	PromptTokenIDs     []int         `json:"prompt_token_ids,omitempty"`
	CompletionTokenIDs []int         `json:"completion_token_ids,omitempty"`
	Logprobs           []float64     `json:"logprobs,omitempty"`
	FinishReason       string        `json:"finish_reason,omitempty"`
	Usage              *llm.Usage    `json:"usage,omitempty"`
	AdapterVersion     int           `json:"adapter_version,omitempty"`

	// Tool steps.
	Tool   string `json:"tool,omitempty"`
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`

	// Log and error steps.
	Text string `json:"text,omitempty"`
}

// Trajectory is one rollout sample of one item.
type Trajectory struct {
	FormatVersion  int     `json:"format_version"`
	Run            string  `json:"run"`
	Gen            int     `json:"gen"`
	Split          string  `json:"split"`
	Item           string  `json:"item"`
	Sample         int     `json:"sample"`
	HarnessSHA     string  `json:"harness_sha"`
	AdapterVersion int     `json:"adapter_version"`
	Steps          []Step  `json:"steps"`
	Answer         string  `json:"answer"`
	Status         string  `json:"status"` // verifier status: correct, wrong, invalid, missing, error
	Reward         float64 `json:"reward"`
	Error          string  `json:"error,omitempty"` // harness error, if any
	DurationS      float64 `json:"duration_s"`
}

// ModelSteps returns the model-call steps in order.
func (t *Trajectory) ModelSteps() []Step {
	var out []Step
	for _, s := range t.Steps {
		if s.Kind == KindModel {
			out = append(out, s)
		}
	}
	return out
}

// Usage sums the usage of all model steps.
func (t *Trajectory) Usage() llm.Usage {
	var u llm.Usage
	for _, s := range t.Steps {
		if s.Usage != nil {
			u = u.Add(*s.Usage)
		}
	}
	return u
}

// Recorder collects the steps of one sample. It is safe for concurrent use
// (a harness may issue model calls from several goroutines).
type Recorder struct {
	start time.Time
	mu    sync.Mutex
	steps []Step
}

// NewRecorder starts a recorder; step times are relative to now.
func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

// Add appends a step, stamping its time.
func (r *Recorder) Add(s Step) {
	if r == nil {
		return
	}
	s.T = time.Since(r.start).Seconds()
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
}

// Append adds steps recorded elsewhere (a harness's worker process),
// keeping their times.
func (r *Recorder) Append(steps []Step) {
	if r == nil || len(steps) == 0 {
		return
	}
	r.mu.Lock()
	r.steps = append(r.steps, steps...)
	r.mu.Unlock()
}

// Log appends a log step.
func (r *Recorder) Log(text string) { r.Add(Step{Kind: KindLog, Text: text}) }

// AddCompletion records every choice of a completion as one model step each.
func (r *Recorder) AddCompletion(req llm.Request, c *llm.Completion) {
	if r == nil || c == nil {
		return
	}
	for i, ch := range c.Choices {
		s := Step{
			Kind:               KindModel,
			Model:              c.Model,
			Messages:           req.Messages,
			Choice:             i,
			Completion:         ch.Message.Content,
			PromptTokenIDs:     c.PromptTokenIDs,
			CompletionTokenIDs: ch.TokenIDs,
			Logprobs:           ch.Logprobs,
			FinishReason:       ch.FinishReason,
			AdapterVersion:     c.AdapterVersion,
		}
		if i == 0 { // usage is per call; charge it once
			u := c.Usage
			s.Usage = &u
		}
		r.Add(s)
	}
}

// Steps returns a copy of the steps so far.
func (r *Recorder) Steps() []Step {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Step(nil), r.steps...)
}

// Elapsed is the time since the recorder started.
func (r *Recorder) Elapsed() time.Duration { return time.Since(r.start) }

// RecordingModel wraps m so every call is recorded into rec.
func RecordingModel(m llm.Model, rec *Recorder) llm.Model {
	return llm.ModelFunc(func(ctx context.Context, req llm.Request) (*llm.Completion, error) {
		c, err := m.Chat(ctx, req)
		if err != nil {
			rec.Add(Step{Kind: KindError, Text: "model call: " + err.Error()})
			return nil, err
		}
		rec.AddCompletion(req, c)
		return c, nil
	})
}

// Write writes trajectories as JSON lines.
func Write(w io.Writer, ts []Trajectory) error {
	enc := json.NewEncoder(w)
	for i := range ts {
		if err := enc.Encode(&ts[i]); err != nil {
			return fmt.Errorf("encode trajectory %s/%d: %w", ts[i].Item, ts[i].Sample, err)
		}
	}
	return nil
}

// Read reads JSON-line trajectories.
func Read(r io.Reader) ([]Trajectory, error) {
	var out []Trajectory
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var t Trajectory
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return nil, fmt.Errorf("trajectory line %d: %w", line, err)
		}
		out = append(out, t)
	}
	return out, sc.Err()
}
