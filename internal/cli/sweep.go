package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/runstore"
)

// sweepOptions are `sia sweep`'s own flags; the run flags are runOptions.
type sweepOptions struct {
	Seeds []int64
	Name  string
	Jobs  int
	// args are the run flags as given (without --seed, --run-id,
	// --runs-dir), passed to every run with {seed} filled in.
	args []string
	// exe is the sia binary the runs are started with (this one).
	exe string
}

// sweepOwn are the flags a sweep sets for each run, or its own.
var sweepOwn = map[string]bool{"seeds": true, "name": true, "jobs": true, "seed": true, "run-id": true,
	"runs-dir": true, "resume": true, "web": true, "web-addr": true}

// sweepRefused are run flags a sweep sets itself or cannot pass on.
var sweepRefused = []struct{ name, instead string }{
	{"seed", "give --seeds"},
	{"run-id", "each run is run_<seed>"},
	{"resume", "run the same sweep again to resume it"},
	{"web", "serve the sweep with sia web --runs-dir RUNS_DIR/sweep_<name>"},
	{"web-addr", "serve the sweep with sia web --runs-dir RUNS_DIR/sweep_<name>"},
}

// sweepRecord is sweep.json: what every run of the sweep was started with.
type sweepRecord struct {
	FormatVersion int      `json:"format_version"`
	Name          string   `json:"name"`
	Args          []string `json:"args"`
	Seeds         []int64  `json:"seeds"`
}

func newSweepCmd(a *app) *cobra.Command {
	o := &runOptions{}
	so := &sweepOptions{}
	var seeds string
	cmd := &cobra.Command{
		Annotations: map[string]string{annInterrupted: "run the same sweep again: it resumes unfinished runs"},
		Use:         "sweep --seeds LIST [sia run flags]",
		Short:       "Run one configuration over several seeds: RUNS_DIR/sweep_<name>/run_<seed>",
		Long: `Run one configuration of sia run once per seed, in parallel where the cores allow, into
RUNS_DIR/sweep_<name>/run_<seed> (a runs folder: sia show --list --runs-dir works on it), then
print the sweep's summary (sia compare). Every sia run flag applies to every run; "{seed}" in a
flag's value is replaced by the run's seed (e.g. --harness runs/sweep_h/run_{seed}/best).

Running the same sweep again resumes its unfinished runs and skips finished ones; more seeds
add runs. A sweep of the same name with other flags is refused. Each run's output is in
sweep_<name>/logs/run_<seed>.log.`,
		Example: `  sia sweep --seeds 1-6 --task cipher --max-gen 10 --samples 8 --train-items 192
  sia sweep --seeds 1-6 --name rules --task demo --lever-choice rules
  sia compare runs/sweep_cipher_auto runs/sweep_rules`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("runs-dir") {
				o.RunsDir = a.env.RunsDir()
			}
			var err error
			if so.Seeds, err = parseSeeds(seeds); err != nil {
				return usage(err)
			}
			if err := applySIA(cmd.Flags(), o, a.env); err != nil {
				return usage(err)
			}
			for _, r := range sweepRefused {
				if cmd.Flags().Changed(r.name) {
					return usage(fmt.Errorf("--%s does not go with sia sweep: %s", r.name, r.instead))
				}
			}
			o.Seed = so.Seeds[0]
			if err := o.validate(); err != nil {
				return usage(err)
			}
			if so.Jobs < 0 {
				return usage(fmt.Errorf("--jobs %d: want 0 (as the cores allow) or more", so.Jobs))
			}
			if so.Name == "" {
				so.Name = strings.Trim(o.Task+"_"+o.Mode, "_")
				if o.Task == "" {
					so.Name = filepath.Base(o.TaskDir) + "_" + o.Mode
				}
			}
			if strings.ContainsAny(so.Name, `/\`) || strings.HasPrefix(so.Name, ".") {
				return usage(fmt.Errorf("--name %q: want a plain name", so.Name))
			}
			cmd.Flags().Visit(func(f *pflag.Flag) {
				if !sweepOwn[f.Name] {
					so.args = append(so.args, "--"+f.Name+"="+f.Value.String())
				}
			})
			if so.exe, err = os.Executable(); err != nil {
				return err
			}
			return a.sweep(cmd.Context(), o.RunsDir, so)
		},
	}
	bindRunFlags(cmd.Flags(), o)
	cmd.Flags().StringVar(&seeds, "seeds", "", "the seeds, e.g. 1-6 or 1,3,5 or 1-3,7 (required)")
	cmd.Flags().StringVar(&so.Name, "name", "", "the sweep's name: runs go to RUNS_DIR/sweep_<name> (default <task>_<mode>)")
	cmd.Flags().IntVar(&so.Jobs, "jobs", 0, "runs at a time (0: one per 2 CPUs, at least 1); the first run goes alone, to fill the caches")
	_ = cmd.MarkFlagRequired("seeds")
	return cmd
}

// parseSeeds reads "1-6", "1,3,5" or "1-3,7" (no repeats).
func parseSeeds(s string) ([]int64, error) {
	var out []int64
	seen := map[int64]bool{}
	add := func(v int64) error {
		if seen[v] {
			return fmt.Errorf("--seeds %q: seed %d twice", s, v)
		}
		seen[v] = true
		out = append(out, v)
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds %q: want seeds like 1-6 or 1,3,5", s)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("--seeds %q: want a range low-high, like 1-6", s)
			}
			if b-a >= 1000 {
				return nil, fmt.Errorf("--seeds %q: more than 1000 seeds", s)
			}
		}
		for v := a; v <= b; v++ {
			if err := add(v); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--seeds: give at least one seed")
	}
	return out, nil
}

// sweep runs (or resumes) every seed's run and prints the summary.
func (a *app) sweep(ctx context.Context, runsDir string, o *sweepOptions) error {
	dir := filepath.Join(runsDir, runstore.SweepDirName(o.Name))
	rec := sweepRecord{FormatVersion: 1, Name: o.Name, Args: o.args}
	var prev sweepRecord
	if b, err := os.ReadFile(filepath.Join(dir, runstore.SweepFile)); err == nil {
		if err := json.Unmarshal(b, &prev); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, runstore.SweepFile), err)
		}
		if !slices.Equal(prev.Args, o.args) {
			return usage(fmt.Errorf("%s was run with %s, not %s; pass --name to start another sweep",
				runstore.SweepDirName(o.Name), strings.Join(prev.Args, " "), strings.Join(o.args, " ")))
		}
		rec.Seeds = prev.Seeds
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, s := range o.Seeds {
		if !slices.Contains(rec.Seeds, s) {
			rec.Seeds = append(rec.Seeds, s)
		}
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, runstore.SweepLogFile(0))), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, runstore.SweepFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	jobs := o.Jobs
	if jobs == 0 {
		jobs = max(1, runtime.NumCPU()/2)
	}
	fmt.Fprintf(a.streams.Err, "sia: %s · %d seeds · %d at a time · %s\n", runstore.SweepDirName(o.Name), len(o.Seeds), jobs, dir)
	var (
		mu     sync.Mutex
		failed []string
	)
	status := &lockedWriter{w: a.streams.Err} // seeds run in parallel
	one := func(ctx context.Context, seed int64) {
		err := a.sweepRun(ctx, dir, seed, o, jobs, status)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && ctx.Err() == nil {
			failed = append(failed, fmt.Sprintf("seed %d (%v; %s)", seed, err, runstore.SweepLogFile(seed)))
		}
	}
	seeds := o.Seeds
	if jobs > 1 && len(seeds) > 1 {
		one(ctx, seeds[0]) // alone: it pretrains and caches what the others reuse
		seeds = seeds[1:]
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, s := range seeds {
		g.Go(func() error {
			one(gctx, s)
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	fmt.Fprintln(a.streams.Out)
	if err := a.compare(&compareOptions{Args: []string{dir}, Metric: "test", Level: 0.05}); err != nil && len(failed) == 0 {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s: %d of %d runs failed: %s", runstore.SweepDirName(o.Name), len(failed), len(o.Seeds), strings.Join(failed, "; "))
	}
	return nil
}

// sweepRun runs one seed to its end: a fresh run, a resume of an
// unfinished one, or nothing for a finished one.
// Its status lines go to status.
func (a *app) sweepRun(ctx context.Context, dir string, seed int64, o *sweepOptions, jobs int, status io.Writer) error {
	runDir := filepath.Join(dir, runstore.SeedRunDirName(seed))
	var args []string
	if runstore.IsRunDir(runDir) {
		if s, err := report.Load(runDir); err == nil && s.Finished {
			fmt.Fprintf(status, "sia: %s seed %d: finished before, test %s\n", filepath.Base(dir), seed, scoreOrDash(s.TestScore))
			return nil
		}
		args = []string{"run", "--resume", runDir}
	} else {
		args = []string{"run", "--seed", strconv.FormatInt(seed, 10), "--run-id", strconv.FormatInt(seed, 10), "--runs-dir", dir}
		for _, f := range o.args {
			args = append(args, strings.ReplaceAll(f, "{seed}", strconv.FormatInt(seed, 10)))
		}
		if jobs > 1 && !slices.ContainsFunc(o.args, func(s string) bool { return strings.HasPrefix(s, "--parallel=") }) {
			args = append(args, "--parallel", strconv.Itoa(max(1, runtime.NumCPU()/jobs)))
		}
	}
	log, err := os.Create(filepath.Join(dir, runstore.SweepLogFile(seed)))
	if err != nil {
		return err
	}
	defer log.Close()
	start := time.Now()
	fmt.Fprintf(status, "sia: %s seed %d: %s\n", filepath.Base(dir), seed, strings.Join(args[:2], " "))
	cmd := exec.CommandContext(ctx, o.exe, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) } // a killed run resumes
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		return err
	}
	s, err := report.Load(runDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(status, "sia: %s seed %d: done in %s, test %s\n", filepath.Base(dir), seed,
		time.Since(start).Round(time.Second), scoreOrDash(s.TestScore))
	return nil
}

// lockedWriter serialises writes from the goroutines of a sweep.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func scoreOrDash(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.4f", *v)
}
