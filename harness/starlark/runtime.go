package starlark

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"time"

	sl "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// Config sets the runtime's limits. The zero value is usable.
type Config struct {
	// SolveSteps caps Starlark steps per solve call (default 100M: about
	// five seconds of pure Starlark, which runs ~20M steps/s; see
	// BenchmarkStarlarkSteps).
	SolveSteps uint64
	// SolveTimeout caps each solve call's wall-clock time, model calls and
	// ML work included (default 5 minutes; the caller's ctx may end it
	// sooner).
	SolveTimeout time.Duration
	// SetupSteps caps the module's top level plus setup (default 2G, about
	// a minute and a half of pure Starlark; Go builtins do not count).
	SetupSteps uint64
	// SetupTimeout caps top level plus setup (default 15 minutes).
	SetupTimeout time.Duration
	// OnSetupLog receives log() and print() lines written outside solve
	// (top level and setup), where there is no trajectory to hold them,
	// unless the load's harness.Env.SetupLog takes them. Nil drops them.
	OnSetupLog func(line string)
}

func (c *Config) applyDefaults() {
	if c.SolveSteps == 0 {
		c.SolveSteps = 100_000_000
	}
	if c.SolveTimeout == 0 {
		c.SolveTimeout = 5 * time.Minute
	}
	if c.SetupSteps == 0 {
		c.SetupSteps = 2_000_000_000
	}
	if c.SetupTimeout == 0 {
		c.SetupTimeout = 15 * time.Minute
	}
}

// Runtime loads Starlark harnesses. It is stateless and safe for
// concurrent use.
type Runtime struct {
	cfg Config
}

var (
	_ harness.Runtime   = (*Runtime)(nil)
	_ harness.Inspector = (*Runtime)(nil)
	_ harness.Harness   = (*Harness)(nil)
)

// New returns a runtime with cfg's limits.
func New(cfg Config) *Runtime {
	cfg.applyDefaults()
	return &Runtime{cfg: cfg}
}

// fileOptions are the dialect harnesses are written in: while loops,
// sets, top-level control flow and global reassignment are allowed;
// recursion is not (the step limit cannot bound the Go stack it uses).
func fileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}
}

// compileHarness parses code, rewrites its `%` formatting (see format.go) and
// compiles it against the predeclared names pre (to which it adds the
// hidden formatting builtin).
func compileHarness(name string, code []byte, pre sl.StringDict) (*sl.Program, error) {
	f, err := fileOptions().Parse(name, code, 0)
	if err != nil {
		return nil, err
	}
	rewritePercent(f)
	pre[percentName] = percentBuiltin
	return sl.FileProgram(f, pre.Has)
}

// loaded is a harness file after its top level ran.
type loaded struct {
	globals sl.StringDict
	decl    harness.Decl
	knobs   *knobsValue
	// settings holds each knob's value as the declared Starlark candidate.
	settings *sl.Dict
}

// exec compiles src and runs its top level with env's builtins, then reads
// and validates KNOBS against src.Knobs.
func (r *Runtime) exec(ctx context.Context, src harness.Source, st *callState) (*loaded, error) {
	name := src.Name
	if name == "" {
		name = "harness.star"
	}
	kv := &knobsValue{}
	pre, err := predeclared(&moduleEnv{Public: st.public, Knobs: kv})
	if err != nil {
		return nil, fmt.Errorf("harness %s: %w", name, err)
	}
	prog, err := compileHarness(name, src.Code, pre)
	if err != nil {
		return nil, fmt.Errorf("harness %s: compile: %w", name, err)
	}
	var globals sl.StringDict
	_, err = run(ctx, limits{steps: r.cfg.SetupSteps, timeout: r.cfg.SetupTimeout, what: "top level"}, st,
		func(th *sl.Thread) (sl.Value, error) {
			g, err := prog.Init(th, pre)
			g.Freeze() // concurrent solve calls share the globals
			globals = g
			return sl.None, err
		})
	if err != nil {
		return nil, fmt.Errorf("harness %s: %w", name, err)
	}
	l := &loaded{globals: globals, knobs: kv}
	if err := l.readKnobs(src.Knobs); err != nil {
		return nil, fmt.Errorf("harness %s: %w", name, err)
	}
	return l, nil
}

// readKnobs validates KNOBS and the chosen settings and fills l.decl.
func (l *loaded) readKnobs(chosen map[string]any) error {
	l.decl = harness.Decl{Knobs: map[string][]any{}, Order: []string{}, Settings: map[string]any{}}
	l.settings = sl.NewDict(0)
	v, ok := l.globals["KNOBS"]
	if !ok {
		if len(chosen) > 0 {
			return fmt.Errorf("knobs %v are set but the harness declares no KNOBS", sortedKeys(chosen))
		}
		l.settings.Freeze()
		l.knobs.settle(l.settings)
		return nil
	}
	d, ok := v.(*sl.Dict)
	if !ok {
		return fmt.Errorf("KNOBS must be a dict of knob name → list of candidate values, got %s", v.Type())
	}
	cands := map[string][]sl.Value{}
	for _, kv := range d.Items() {
		k, ok := sl.AsString(kv[0])
		if !ok {
			return fmt.Errorf("KNOBS key %s: knob names must be strings", kv[0])
		}
		var vals []sl.Value
		switch c := kv[1].(type) {
		case *sl.List:
			for i := range c.Len() {
				vals = append(vals, c.Index(i))
			}
		case sl.Tuple:
			vals = append(vals, c...)
		default:
			return fmt.Errorf("KNOBS[%q] must be a list of candidate values, got %s", k, kv[1].Type())
		}
		if len(vals) == 0 {
			return fmt.Errorf("KNOBS[%q] has no candidate values", k)
		}
		goVals := make([]any, len(vals))
		for i, c := range vals {
			g, err := fromStarlark(c)
			if err != nil {
				return fmt.Errorf("KNOBS[%q][%d]: %w", k, i, err)
			}
			goVals[i] = g
		}
		l.decl.Knobs[k] = goVals
		l.decl.Order = append(l.decl.Order, k)
		cands[k] = vals
	}
	for k := range chosen {
		if _, ok := l.decl.Knobs[k]; !ok {
			return fmt.Errorf("knob %q is set but not declared in KNOBS (declared: %v)", k, l.decl.Order)
		}
	}
	for _, k := range l.decl.Order {
		idx := 0
		if want, ok := chosen[k]; ok {
			idx = -1
			for i, c := range l.decl.Knobs[k] {
				if knobsEqual(want, c) {
					idx = i
					break
				}
			}
			if idx < 0 {
				return fmt.Errorf("knob %q = %v is not one of its KNOBS candidates %v", k, want, l.decl.Knobs[k])
			}
		}
		l.decl.Settings[k] = l.decl.Knobs[k][idx]
		if err := l.settings.SetKey(sl.String(k), cands[k][idx]); err != nil {
			return err
		}
	}
	l.settings.Freeze()
	l.knobs.settle(l.settings)
	return nil
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Inspect runs the harness's top level, without setup and without data or
// a model, and returns its declared knobs.
func (r *Runtime) Inspect(src harness.Source) (harness.Decl, error) {
	l, err := r.exec(context.Background(), src, &callState{logf: r.cfg.OnSetupLog})
	if err != nil {
		return harness.Decl{}, err
	}
	return l.decl, nil
}

// Load compiles src, runs its top level and setup(ctx) against env, and
// returns a harness ready to solve items concurrently.
func (r *Runtime) Load(ctx context.Context, src harness.Source, env harness.Env) (harness.Harness, error) {
	return r.LoadHarness(ctx, src, env)
}

// LoadHarness is Load returning the concrete type.
func (r *Runtime) LoadHarness(ctx context.Context, src harness.Source, env harness.Env) (*Harness, error) {
	st := &callState{model: env.Model, seed: env.Seed, public: env.Public, logf: r.cfg.OnSetupLog}
	if env.SetupLog != nil {
		st.logf = env.SetupLog
	}
	l, err := r.exec(ctx, src, st)
	if err != nil {
		return nil, err
	}
	h := &Harness{rt: r, name: src.Name, globals: l.globals, decl: l.decl, model: env.Model, public: env.Public, state: sl.None}
	fn, ok := l.globals["solve"].(*sl.Function)
	if !ok {
		return nil, fmt.Errorf("harness %s: it must define solve(item) or solve(item, state)", src.Name)
	}
	if np := fn.NumParams() - fn.NumKwonlyParams(); np < 1 || np > 2 || fn.HasVarargs() {
		return nil, fmt.Errorf("harness %s: solve takes %d parameters; want solve(item) or solve(item, state)", src.Name, np)
	}
	h.solve = fn
	h.twoArgs = fn.NumParams()-fn.NumKwonlyParams() == 2
	if setup, ok := l.globals["setup"]; ok {
		sfn, ok := setup.(sl.Callable)
		if !ok {
			return nil, fmt.Errorf("harness %s: setup must be a function, got %s", src.Name, setup.Type())
		}
		sctx, err := setupContext(env, l.settings)
		if err != nil {
			return nil, fmt.Errorf("harness %s: %w", src.Name, err)
		}
		state, err := run(ctx, limits{steps: r.cfg.SetupSteps, timeout: r.cfg.SetupTimeout, what: "setup"}, st,
			func(th *sl.Thread) (sl.Value, error) { return sl.Call(th, sfn, sl.Tuple{sctx}, nil) })
		if err != nil {
			return nil, fmt.Errorf("harness %s: %w", src.Name, err)
		}
		state.Freeze()
		h.state = state
	}
	return h, nil
}

// setupContext builds setup's ctx argument. Train rows carry their label:
// the train split is labelled and meant for fitting.
func setupContext(env harness.Env, settings *sl.Dict) (sl.Value, error) {
	rows := make([]sl.Value, len(env.Train))
	for i, ex := range env.Train {
		d, err := itemDict(ex.Item)
		if err != nil {
			return nil, fmt.Errorf("train item %q: %w", ex.ID, err)
		}
		if err := d.SetKey(sl.String("label"), sl.String(ex.Label)); err != nil {
			return nil, err
		}
		rows[i] = d
	}
	train := sl.NewList(rows)
	return starlarkstruct.FromStringDict(sl.String("setup_context"), sl.StringDict{
		"train":    train,
		"knobs":    settings,
		"task_doc": sl.String(env.TaskDoc),
		"seed":     sl.MakeInt64(env.Seed),
	}), nil
}

// itemDict is an item as solve sees it: its fields plus "id".
func itemDict(it task.Item) (*sl.Dict, error) {
	v, err := toStarlark(it.Fields)
	if err != nil {
		return nil, err
	}
	d := v.(*sl.Dict)
	if err := d.SetKey(sl.String("id"), sl.String(it.ID)); err != nil {
		return nil, err
	}
	return d, nil
}

// Harness is a loaded Starlark harness. Its globals and setup state are
// frozen; each Solve runs on its own thread.
type Harness struct {
	rt      *Runtime
	name    string
	globals sl.StringDict
	decl    harness.Decl
	model   llm.Model
	public  fs.FS
	solve   *sl.Function
	twoArgs bool
	state   sl.Value
}

// Decl returns the declared knobs and their settings.
func (h *Harness) Decl() harness.Decl { return h.decl }

// Close releases nothing: a Starlark harness holds no outside resources.
func (h *Harness) Close() error { return nil }

// Solve runs solve(item[, state]) under the per-call limits. Model calls
// go through a recorder into s.Rec; log() lines become log steps; an error
// is also recorded as an error step.
func (h *Harness) Solve(ctx context.Context, item task.Item, s harness.Sample) (string, error) {
	st := &callState{seed: s.Seed, rec: s.Rec, public: h.public}
	if h.model != nil {
		st.model = trajectory.RecordingModel(h.model, s.Rec)
	}
	d, err := itemDict(item)
	if err != nil {
		return "", fmt.Errorf("item %q: %w", item.ID, err)
	}
	args := sl.Tuple{d}
	if h.twoArgs {
		args = append(args, h.state)
	}
	v, err := run(ctx, limits{steps: h.rt.cfg.SolveSteps, timeout: h.rt.cfg.SolveTimeout, what: "solve"}, st,
		func(th *sl.Thread) (sl.Value, error) { return sl.Call(th, h.solve, args, nil) })
	if err == nil {
		var ans string
		if ans, err = answerString(v); err == nil {
			return ans, nil
		}
	}
	s.Rec.Add(trajectory.Step{Kind: trajectory.KindError, Text: err.Error()})
	return "", fmt.Errorf("item %q: %w", item.ID, err)
}
