package python

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// Runtime runs SIA-compatible target_agent.py harnesses as a
// harness.Runtime: each rollout sample is one run over the whole split,
// laid out as SIA's dataset_dir, and the submission it writes is read back
// into answers by id. Model calls go through the gateway (OPENAI_BASE_URL,
// OPENAI_API_KEY); a call tagged with X-SIA-Item "item=<id>;sample=<k>" is
// logged into that item's trajectory.
type Runtime struct {
	// Python is the interpreter (default python3).
	Python string
	// Timeout bounds one run (default: the rollout's batch timeout).
	Timeout time.Duration
	// TempDir holds the per-run dataset and working folders ("" = os.TempDir).
	TempDir string
	// Sandbox runs each script under bubblewrap with the task's private
	// folders masked (see RunConfig.Sandbox).
	Sandbox bool
}

var _ harness.Runtime = (*Runtime)(nil)

// Load checks the source and returns a harness that runs it.
func (r *Runtime) Load(_ context.Context, src harness.Source, env harness.Env) (harness.Harness, error) {
	if len(bytes.TrimSpace(src.Code)) == 0 {
		return nil, errors.New("target_agent.py is empty")
	}
	if env.Layout.ItemsFile == "" {
		return nil, errors.New("python harness: the task's layout names no items file (task.yaml splits.test.file)")
	}
	return &Harness{rt: r, src: src, env: env}, nil
}

// Harness is a loaded target_agent.py.
type Harness struct {
	rt  *Runtime
	src harness.Source
	env harness.Env
}

var (
	_ harness.Harness = (*Harness)(nil)
	_ harness.Batch   = (*Harness)(nil)
)

// Solve is not used: the rollout calls SolveAll for batch harnesses.
func (h *Harness) Solve(ctx context.Context, item task.Item, s harness.Sample) (string, error) {
	answers, err := h.SolveAll(ctx, []task.Item{item}, s.Index, s.Seed, map[string]*trajectory.Recorder{item.ID: s.Rec})
	if err != nil {
		return "", err
	}
	return answers[item.ID], nil
}

// Decl: python harnesses declare no knobs; their settings arrive as the
// SIA_KNOBS environment variable (JSON).
func (h *Harness) Decl() harness.Decl {
	return harness.Decl{Knobs: map[string][]any{}, Settings: h.src.Knobs}
}

// Close implements harness.Harness.
func (h *Harness) Close() error { return nil }

// SolveAll implements harness.Batch.
func (h *Harness) SolveAll(ctx context.Context, items []task.Item, sample int, seed int64, recs map[string]*trajectory.Recorder) (map[string]string, error) {
	root, err := os.MkdirTemp(h.rt.TempDir, "sia-py-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	dataset, work := filepath.Join(root, "dataset"), filepath.Join(root, "work")
	if err := Materialize(dataset, h.env.Public, h.env.Layout, h.env.Train, items); err != nil {
		return nil, fmt.Errorf("lay out dataset_dir: %w", err)
	}
	if h.env.Gateway.Register != nil {
		for id, rec := range recs {
			defer h.env.Gateway.Register(id, sample, rec)()
		}
	}
	knobs, _ := json.Marshal(h.src.Knobs)
	vars := map[string]string{
		"SIA_SAMPLE": strconv.Itoa(sample),
		"SIA_SEED":   strconv.FormatInt(seed, 10),
		"SIA_KNOBS":  string(knobs),
	}
	if h.env.Gateway.BaseURL != "" {
		vars["OPENAI_BASE_URL"] = h.env.Gateway.BaseURL
		vars["OPENAI_API_KEY"] = h.env.Gateway.APIKey
	}
	timeout := h.rt.Timeout
	if dl, ok := ctx.Deadline(); ok && (timeout == 0 || time.Until(dl) < timeout) {
		timeout = time.Until(dl)
	}
	res, runErr := Run(ctx, RunConfig{Script: h.src.Code, DatasetDir: dataset, WorkingDir: work,
		Timeout: timeout, Env: vars, Python: h.rt.Python, Sandbox: h.rt.Sandbox, Hidden: h.env.Hidden})
	if res != nil {
		tail := logTail(res.LogPath, 2000)
		for _, rec := range recs {
			rec.Add(trajectory.Step{Kind: trajectory.KindTool, Tool: "target_agent.py",
				Input:  fmt.Sprintf("sample %d over %d items", sample, len(items)),
				Output: fmt.Sprintf("exit %d after %.1fs; log tail:\n%s", res.ExitCode, res.Duration.Seconds(), tail)})
		}
	}
	if runErr != nil {
		return nil, runErr
	}
	return readSubmission(work, h.env.Layout)
}

// Materialize lays out SIA's dataset_dir: every public file, except that
// the train file holds exactly the train split (the val carve is not in it)
// and the items file holds exactly items, without labels.
func Materialize(dir string, public fs.FS, l harness.Layout, train []task.Example, items []task.Item) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if public != nil {
		err := fs.WalkDir(public, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || p == l.TrainFile || p == l.ItemsFile {
				return err
			}
			b, err := fs.ReadFile(public, p)
			if err != nil {
				return err
			}
			target := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		})
		if err != nil {
			return err
		}
	}
	idKey, labelKey := orDefault(l.IDKey, "id"), orDefault(l.LabelKey, "label")
	if l.TrainFile != "" && len(train) > 0 {
		rows := make([]map[string]any, len(train))
		for i, e := range train {
			rows[i] = record(e.Item, idKey)
			rows[i][labelKey] = e.Label
		}
		if err := writeRecords(filepath.Join(dir, l.TrainFile), public, l.TrainFile, rows); err != nil {
			return err
		}
	}
	rows := make([]map[string]any, len(items))
	for i, it := range items {
		rows[i] = record(it, idKey)
		delete(rows[i], labelKey) // never, even if a field shares the name
	}
	return writeRecords(filepath.Join(dir, l.ItemsFile), public, l.ItemsFile, rows)
}

func record(it task.Item, idKey string) map[string]any {
	m := make(map[string]any, len(it.Fields)+1)
	for k, v := range it.Fields {
		m[k] = v
	}
	m[idKey] = it.ID
	return m
}

// writeRecords writes rows as CSV (keeping the original file's column
// order when it exists), JSON (an array) or JSONL, by extension.
func writeRecords(file string, public fs.FS, orig string, rows []map[string]any) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	switch strings.ToLower(path.Ext(file)) {
	case ".csv":
		cols := columns(public, orig, rows)
		w := csv.NewWriter(&buf)
		_ = w.Write(cols)
		for _, r := range rows {
			rec := make([]string, len(cols))
			for i, c := range cols {
				if v, ok := r[c]; ok && v != nil {
					rec[i] = fmt.Sprint(v)
				}
			}
			_ = w.Write(rec)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
	case ".jsonl":
		enc := json.NewEncoder(&buf)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	default:
		b, err := json.MarshalIndent(rows, "", " ")
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

// columns keeps the original CSV header's order for the columns present,
// then adds any others sorted.
func columns(public fs.FS, orig string, rows []map[string]any) []string {
	present := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			present[k] = true
		}
	}
	var cols []string
	if public != nil {
		if b, err := fs.ReadFile(public, orig); err == nil {
			if head, err := csv.NewReader(bytes.NewReader(b)).Read(); err == nil {
				for _, c := range head {
					if present[c] {
						cols = append(cols, c)
						delete(present, c)
					}
				}
			}
		}
	}
	var rest []string
	for c := range present {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	return append(cols, rest...)
}

// readSubmission finds and parses the submission in the working dir.
func readSubmission(work string, l harness.Layout) (map[string]string, error) {
	name := l.Submission
	if name == "" {
		for _, cand := range []string{"submission.csv", "submission.json", "submission.jsonl", "predictions.csv", "predictions.json", "answers.json"} {
			if _, err := os.Stat(filepath.Join(work, cand)); err == nil {
				name = cand
				break
			}
		}
	}
	if name == "" {
		return nil, errors.New("target_agent.py wrote no submission (submission.csv or submission.json) into its working dir")
	}
	b, err := os.ReadFile(filepath.Join(work, name))
	if err != nil {
		return nil, fmt.Errorf("read submission: %w", err)
	}
	if l.Parse == nil {
		return nil, errors.New("python harness: no submission parser configured")
	}
	answers, err := l.Parse(name, b)
	if err != nil {
		return nil, fmt.Errorf("submission %s: %w", name, err)
	}
	return answers, nil
}

func logTail(p string, n int) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
