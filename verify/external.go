package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/sandbox"
)

// ResultsCap is the most bytes of an evaluator's results.json sia reads.
const ResultsCap = 64 << 20

// DefaultEvalTimeout bounds one evaluate.py run when none is given.
const DefaultEvalTimeout = 10 * time.Minute

// Interpreter resolves the Python that runs evaluators, once: every
// verifier of a run shares it.
type Interpreter struct {
	// Name is the interpreter (a command on PATH or a path; default python3).
	Name string

	once sync.Once
	it   sandbox.Interpreter
	err  error
}

// Resolve returns the interpreter as the sandbox must see it.
func (p *Interpreter) Resolve(ctx context.Context) (sandbox.Interpreter, error) {
	p.once.Do(func() { p.it, p.err = sandbox.ResolvePython(ctx, p.Name) })
	return p.it, p.err
}

// Layout is what Prepare made in a scratch folder: the copy of the task
// folder the script runs from, the script inside it, and the generation
// folder holding the submission.
type Layout struct {
	TaskDir string // absolute; mounted read-only, the script's working dir
	Script  string // relative to TaskDir: data/public/evaluate.py or evaluate.py
	GenDir  string // absolute; mounted writable; --gen-dir
}

// External is a Verifier that runs a SIA evaluate.py: for each Verify it
// has Prepare lay out a scratch copy of the task folder (the gold of the
// ids being scored, nothing else of private/) and a generation folder with
// the submission written from the answers, runs
// `python3 <script> --gen-dir <gen>` in the sandbox from the task copy, and
// reads <gen>/results.json as data (sandbox.ReadOutput) with
// ParseSIAResults. The script sees no path the harness controls.
type External struct {
	Spec    Spec
	Sandbox *sandbox.Sandbox
	Python  *Interpreter
	// TempDir holds the scratch folders ("" = os.TempDir); each is removed
	// when its Verify returns.
	TempDir string
	// Timeout bounds one run (default DefaultEvalTimeout).
	Timeout time.Duration
	// Limits bound the run (zero fields: sandbox.DefaultLimits).
	Limits sandbox.Limits
	// Prepare writes the scratch task folder and generation folder under
	// root for the answers and the gold ids being scored.
	Prepare func(root string, answers, gold map[string]string) (Layout, error)
}

var _ Verifier = (*External)(nil)

// LogName is the evaluator's stdout and stderr, beside (not inside) the
// folders it can see.
const LogName = "evaluate.log"

// Verify implements Verifier.
func (e *External) Verify(ctx context.Context, answers, gold map[string]string) (*Result, error) {
	if e.Sandbox == nil {
		return nil, errors.New("evaluate.py: no sandbox configured (it runs sandboxed, as harnesses do)")
	}
	if e.Prepare == nil {
		return nil, errors.New("evaluate.py: nothing lays out its task folder")
	}
	py := e.Python
	if py == nil {
		py = &Interpreter{}
	}
	it, err := py.Resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluate.py: %w", err)
	}
	root, err := os.MkdirTemp(e.TempDir, "sia-eval-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	if err := os.Chmod(root, 0o755); err != nil {
		return nil, err
	}
	lay, err := e.Prepare(root, answers, gold)
	if err != nil {
		return nil, fmt.Errorf("evaluate.py: lay out its task folder: %w", err)
	}
	logFile, err := os.Create(filepath.Join(root, LogName))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = DefaultEvalTimeout
	}
	script := filepath.Join(lay.TaskDir, filepath.FromSlash(lay.Script))
	env := map[string]string{
		"PATH":                    filepath.Dir(it.Exe) + ":/usr/local/bin:/usr/bin:/bin",
		"HOME":                    lay.GenDir,
		"LANG":                    "C.UTF-8",
		"PYTHONUNBUFFERED":        "1",
		"PYTHONDONTWRITEBYTECODE": "1",
		"TMPDIR":                  "/tmp",
	}
	mounts := append([]sandbox.Mount{{Path: lay.TaskDir}, {Path: lay.GenDir, Writable: true}}, it.Mounts...)
	_, runErr := e.Sandbox.Run(ctx, sandbox.Policy{
		Argv:    []string{it.Exe, script, "--gen-dir", lay.GenDir},
		Dir:     lay.TaskDir,
		Env:     env,
		Mounts:  mounts,
		Limits:  e.Limits,
		Timeout: timeout,
	}, logFile)
	if runErr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: %w; its output ends: %s", lay.Script, runErr, logTail(root, 600))
	}
	b, err := sandbox.ReadOutput(lay.GenDir, runstore.ResultsFile, ResultsCap)
	if err != nil {
		return nil, fmt.Errorf("%s wrote no readable %s: %w; its output ends: %s", lay.Script, runstore.ResultsFile, err, logTail(root, 600))
	}
	res, err := ParseSIAResults(b, e.Spec, answers, gold)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", lay.Script, err)
	}
	return res, nil
}

// logTail is the last n bytes of the evaluator's log, on one line.
func logTail(root string, n int) string {
	b, err := sandbox.ReadOutput(root, LogName, ResultsCap)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "(nothing)"
	}
	return s
}
