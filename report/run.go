package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// Config is what report reads of run.json; Fields keeps every field, in
// file order, for display.
type Config struct {
	RunID          string  `json:"run_id"`
	Task           string  `json:"task"`
	Mode           string  `json:"mode"`
	Metric         string  `json:"metric"`
	HigherIsBetter *bool   `json:"higher_is_better"`
	MaxGen         int     `json:"max_gen"`
	Sandbox        string  `json:"sandbox"`
	Fields         []Field `json:"-"`
}

// Higher reports the metric's direction (higher is better unless run.json
// says otherwise).
func (c Config) Higher() bool { return c.HigherIsBetter == nil || *c.HigherIsBetter }

// Run is a run folder opened for reading. Every read goes through fsys,
// rooted at the run folder, so a caller can confine reads to it (an
// os.Root's FS) or test with an fstest.MapFS.
type Run struct {
	Name    string // the folder's name, e.g. run_1
	Config  Config
	Events  []runstore.Event
	State   runstore.State
	Summary *Summary
	// Updated is the modification time of events.jsonl (of run.json when
	// there are no events yet).
	Updated time.Time

	fsys fs.FS
}

// Open reads the run folder at dir.
func Open(dir string) (*Run, error) {
	r, err := OpenFS(os.DirFS(dir), path.Base(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return r, nil
}

// OpenFS reads a run folder from fsys (rooted at the folder) and replays
// its events. name is how the run is called (its folder name).
func OpenFS(fsys fs.FS, name string) (*Run, error) {
	b, err := fs.ReadFile(fsys, runstore.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("not a run folder: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", runstore.ConfigFile, err)
	}
	if cfg.Fields, err = Fields(b); err != nil {
		return nil, fmt.Errorf("%s: %w", runstore.ConfigFile, err)
	}
	r := &Run{Name: name, Config: cfg, fsys: fsys}
	if info, err := fs.Stat(fsys, runstore.ConfigFile); err == nil {
		r.Updated = info.ModTime()
	}
	f, err := fsys.Open(runstore.EventsFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		defer f.Close()
		if info, err := f.Stat(); err == nil {
			r.Updated = info.ModTime()
		}
		if r.Events, err = runstore.ParseEvents(f); err != nil {
			return nil, err
		}
	}
	if r.State, err = runstore.Replay(r.Events, cfg.Higher()); err != nil {
		return nil, fmt.Errorf("%s: %w", runstore.EventsFile, err)
	}
	r.Summary = FromState(cfg.RunID, cfg.Task, cfg.Mode, cfg.Metric, r.State)
	r.Summary.Sandbox = cfg.Sandbox
	var base Baseline
	if ok, err := r.readJSON(runstore.BaselineFile, &base); err != nil {
		return nil, err
	} else if ok {
		r.Summary.Baseline = &base
	}
	return r, nil
}

// FS returns the run folder's file system.
func (r *Run) FS() fs.FS { return r.fsys }

// readJSON reads a JSON file; ok is false when it does not exist.
func (r *Run) readJSON(name string, v any) (ok bool, err error) {
	b, err := fs.ReadFile(r.fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return true, nil
}

// Decision reads gen_<n>/decision.json (how the generation came to be);
// nil when absent.
func (r *Run) Decision(gen int) (*Decision, error) {
	return r.decisionFile(runstore.GenFile(gen, runstore.DecisionFile))
}

// Feedback reads gen_<n>/feedback.json (what the Feedback-Agent decided
// after the generation); nil when absent.
func (r *Run) Feedback(gen int) (*Decision, error) {
	return r.decisionFile(runstore.GenFile(gen, runstore.FeedbackFile))
}

func (r *Run) decisionFile(name string) (*Decision, error) {
	b, err := fs.ReadFile(r.fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d, err := ParseDecision(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// Improvement reads gen_<n>/improvement.md ("" when absent).
func (r *Run) Improvement(gen int) (string, error) {
	b, err := fs.ReadFile(r.fsys, runstore.GenFile(gen, runstore.ImprovementFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}

// Harness reads the harness version of gen_<n>/ (code and knobs.json).
func (r *Run) Harness(gen int) (harness.Source, error) {
	var src harness.Source
	for _, name := range []string{harness.StarlarkFile, harness.PythonFile} {
		code, err := fs.ReadFile(r.fsys, runstore.GenFile(gen, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return src, err
		}
		src = harness.Source{Name: name, Code: code}
		break
	}
	if src.Name == "" {
		return src, fmt.Errorf("gen %d has no harness file: %w", gen, fs.ErrNotExist)
	}
	b, err := fs.ReadFile(r.fsys, runstore.GenFile(gen, harness.KnobsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return src, err
	default:
		if src.Knobs, err = harness.ParseKnobs(b); err != nil {
			return src, fmt.Errorf("gen %d: %w", gen, err)
		}
	}
	return src, nil
}

// Results reads gen_<n>/results.json (the gold-free verdict on val); nil
// when absent.
func (r *Run) Results(gen int) (*verify.Result, error) {
	var res verify.Result
	ok, err := r.readJSON(runstore.GenFile(gen, runstore.ResultsFile), &res)
	if !ok {
		return nil, err
	}
	return &res, nil
}

// Rollouts reads gen_<n>/rollouts.jsonl (compressed, or plain in a run
// folder from before); nil when absent.
func (r *Run) Rollouts(gen int) ([]trajectory.Trajectory, error) {
	ts, err := trajectory.Load(r.fsys, runstore.GenFile(gen, runstore.RolloutsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gen %d rollouts: %w", gen, err)
	}
	return ts, nil
}
