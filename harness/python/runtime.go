package python

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// Runtime runs SIA-compatible target_agent.py harnesses as a
// harness.Runtime: each rollout sample is one sandboxed run over the whole
// split, with the harness's data view as SIA's dataset_dir, and the
// submission it writes is read back (as data, never following a link)
// into answers by id. Model calls go through the gateway
// (OPENAI_BASE_URL, OPENAI_API_KEY); a call tagged with X-SIA-Item
// "item=<id>;sample=<k>" is logged into that item's trajectory.
type Runtime struct {
	// Python is the interpreter (default python3).
	Python string
	// Sandbox starts every script; Load fails without one (a run without
	// isolation passes a sandbox.ModeNone sandbox, explicitly).
	Sandbox *sandbox.Sandbox
	// Limits bound each run (zero fields: sandbox.DefaultLimits).
	Limits sandbox.Limits
	// Timeout bounds one run (default: the rollout's batch timeout).
	Timeout time.Duration
	// TempDir holds the per-run dataset and working folders ("" = os.TempDir).
	TempDir string
	// ProxyExe is the sia binary that runs a sandbox's gateway proxy
	// (sandbox.NetProxyArg); "" = this executable.
	ProxyExe string
	// Layout says where the task's harnesses leave their answers.
	Layout Layout

	once   sync.Once
	interp sandbox.Interpreter
	err    error
}

var _ harness.Runtime = (*Runtime)(nil)

// SubmissionCap is the most bytes of a submission or log sia reads.
const SubmissionCap = 64 << 20

// interpreter resolves the Python once per runtime.
func (r *Runtime) interpreter(ctx context.Context) (sandbox.Interpreter, error) {
	r.once.Do(func() { r.interp, r.err = sandbox.ResolvePython(ctx, r.Python) })
	return r.interp, r.err
}

// Load checks the source, lays the data view out on disk once (read-only
// to every run) and returns a harness that runs it.
func (r *Runtime) Load(ctx context.Context, src harness.Source, env harness.Env) (harness.Harness, error) {
	if len(bytes.TrimSpace(src.Code)) == 0 {
		return nil, errors.New("target_agent.py is empty")
	}
	if r.Sandbox == nil {
		return nil, errors.New("python harness: no sandbox configured")
	}
	it, err := r.interpreter(ctx)
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(r.TempDir, "sia-py-view-*")
	if err != nil {
		return nil, err
	}
	dataset := filepath.Join(root, "dataset")
	if err := Materialize(dataset, env.Public); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("lay out dataset_dir: %w", err)
	}
	return &Harness{rt: r, src: src, env: env, interp: it, root: root, dataset: dataset}, nil
}

// Harness is a loaded target_agent.py.
type Harness struct {
	rt      *Runtime
	src     harness.Source
	env     harness.Env
	interp  sandbox.Interpreter
	root    string // holds the dataset view; removed by Close
	dataset string
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

// Close removes the dataset view.
func (h *Harness) Close() error { return os.RemoveAll(h.root) }

// SolveAll implements harness.Batch. The items are those of the view the
// harness was loaded with (the loop builds one view per rollout).
func (h *Harness) SolveAll(ctx context.Context, items []task.Item, sample int, seed int64, recs map[string]*trajectory.Recorder) (map[string]string, error) {
	root, err := os.MkdirTemp(h.rt.TempDir, "sia-py-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	work := filepath.Join(root, "work")
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
	bctx, stopBridge := context.WithCancel(ctx)
	defer stopBridge()
	gw, err := h.gatewayProxy(bctx)
	if err != nil {
		return nil, err
	}
	if gw != nil {
		defer os.RemoveAll(filepath.Dir(gw.Socket))
	}
	res, runErr := Run(ctx, RunConfig{Script: h.src.Code, DatasetDir: h.dataset, WorkingDir: work,
		LogPath: filepath.Join(root, LogName), Timeout: timeout, Env: vars,
		Interpreter: h.interp, Sandbox: h.rt.Sandbox, Limits: h.rt.Limits, Gateway: gw})
	if res != nil {
		tail := logTail(root, 2000)
		for _, rec := range recs {
			rec.Add(trajectory.Step{Kind: trajectory.KindTool, Tool: "target_agent.py",
				Input:  fmt.Sprintf("sample %d over %d items", sample, len(items)),
				Output: fmt.Sprintf("exit %d after %.1fs; log tail:\n%s", res.ExitCode, res.Duration.Seconds(), tail)})
		}
	}
	if runErr != nil {
		return nil, runErr
	}
	return readSubmission(work, h.rt.Layout)
}

// gatewayProxy makes the sandbox's one way out: under bubblewrap the
// script has a network namespace of its own, where a proxy listens on the
// gateway's own loopback address (so OPENAI_BASE_URL reads the same) and
// forwards to a Unix socket that this process bridges to the gateway. It
// is nil without bubblewrap or without a gateway. The bridge ends with
// ctx; the caller removes the socket's folder.
func (h *Harness) gatewayProxy(ctx context.Context) (*sandbox.GatewayProxy, error) {
	if h.rt.Sandbox.Mode() != sandbox.ModeBwrap || h.env.Gateway.BaseURL == "" {
		return nil, nil
	}
	u, err := url.Parse(h.env.Gateway.BaseURL)
	if err != nil || u.Port() == "" {
		return nil, fmt.Errorf("gateway URL %q: want http://HOST:PORT/v1", h.env.Gateway.BaseURL)
	}
	exe := h.rt.ProxyExe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("gateway proxy: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "sia-gw-") // short: a socket path has ~100 bytes
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "s")
	if err := sandbox.Bridge(ctx, sock, u.Host); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("gateway bridge: %w", err)
	}
	return &sandbox.GatewayProxy{Listen: "127.0.0.1:" + u.Port(), Socket: sock, Proxy: exe}, nil
}

// Materialize writes a data view to dir as SIA's dataset_dir: folders
// 0755, files 0644, readable by the sandbox's unprivileged user and
// mounted read-only.
func Materialize(dir string, view fs.FS) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if view == nil {
		return nil
	}
	return fs.WalkDir(view, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(view, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// Layout says where a task's harnesses leave their answers: the submission
// file target_agent.py writes into its working dir, and how to read it.
type Layout struct {
	Submission string // e.g. "submission.csv"; "" = the first submission.* found
	// Parse reads the submission into answers by id.
	Parse func(filename string, data []byte) (map[string]string, error)
}

// submissionNames are the files looked for when the task names none.
var submissionNames = []string{"submission.csv", "submission.json", "submission.jsonl", "predictions.csv", "predictions.json", "answers.json"}

// readSubmission finds and parses the submission in the working dir,
// reading it as data: no link is followed, nothing but a regular file is
// read, and at most SubmissionCap bytes.
func readSubmission(work string, l Layout) (map[string]string, error) {
	name := l.Submission
	if name == "" {
		for _, cand := range submissionNames {
			if sandbox.ExistsOutput(work, cand) {
				name = cand
				break
			}
		}
	}
	if name == "" {
		return nil, errors.New("target_agent.py wrote no submission (submission.csv or submission.json) into its working dir")
	}
	b, err := sandbox.ReadOutput(work, name, SubmissionCap)
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

// logTail is the last n bytes of the run's log (sia's own file, outside
// the working dir).
func logTail(root string, n int) string {
	b, err := sandbox.ReadOutput(root, LogName, SubmissionCap)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
