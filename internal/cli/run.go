package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/backend"
	"github.com/sia-agent/sia/docs"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
)

// runOptions are `sia run`'s flags.
type runOptions struct {
	Task          string
	TaskDir       string
	MaxGen        int
	RunID         string
	RunsDir       string
	Mode          string
	MetaProfile   string
	TargetProfile string
	Samples       int
	Parallel      int
	Seed          int64
	Resume        bool
	Algorithm     string
	Trainer       string
	ItemTimeout   time.Duration
	TrainItems    int
	TrainSamples  int
	TrainRounds   int
	DPONLL        float64
	BudgetUSD     float64
	BudgetTokens  int
	Harness       string
	// Remote weights lever.
	TrainerCommand string
	LoRARank       int
	AdapterServer  string
	// Sandbox isolates python harnesses and evaluate.py: bwrap or none.
	Sandbox string
	// Selection (loop.Config): the acceptance rule, the confirmation
	// slice, ranked candidates and how the builtin agent picks a lever.
	Accept          string
	ConfirmFrac     float64
	Candidates      int
	CandidateBudget int
	LeverChoice     string

	// runDir is the run folder a resume named; "" = RunsDir/run_<RunID>.
	runDir string
	// SIA compatibility (siacompat.go): SIA's flag spellings, and what they
	// and the SIA_* settings map to.
	SIA         siaFlags
	siaDefaults siaDefaults
	// LogLevel is --log-level / SIA_LOG_LEVEL; DEBUG logs each gateway call.
	LogLevel slog.Level
	// AgentMaxTurns is SIA_MAX_TURNS, the LLM agents' turn limit (0 = theirs).
	AgentMaxTurns int
	// EarlyStop is SIA_EARLY_STOP_THRESHOLD: stop once the incumbent's val
	// score reaches it (nil = never).
	EarlyStop *float64
	// BestOfN is SIA_BEST_OF_N, the candidate harnesses per generation: the
	// default of --candidates.
	BestOfN int
	// The dashboard beside the run (sia run --web).
	Web     bool
	WebAddr string
}

func (o *runOptions) validate() error {
	if (o.Task == "") == (o.TaskDir == "") {
		return errors.New("give exactly one of --task NAME or --task-dir DIR (see `sia tasks`)")
	}
	switch o.Mode {
	case agent.ModeAuto, agent.ModeHarness, agent.ModeWeights:
	default:
		return fmt.Errorf("--mode %q: want harness, weights or auto", o.Mode)
	}
	if o.MaxGen < 1 {
		return fmt.Errorf("--max-gen %d: want at least 1", o.MaxGen)
	}
	if o.Samples < 1 {
		return fmt.Errorf("--samples %d: want at least 1", o.Samples)
	}
	if o.Parallel < 0 {
		return fmt.Errorf("--parallel %d: want 0 (= CPUs) or more", o.Parallel)
	}
	if o.ItemTimeout < 0 {
		return fmt.Errorf("--item-timeout %s: want a positive duration (or 0 for the task's default)", o.ItemTimeout)
	}
	if o.TrainItems < 1 || o.TrainSamples < 1 || o.TrainRounds < 1 {
		return fmt.Errorf("--train-items, --train-samples and --train-rounds must be at least 1")
	}
	if o.BudgetUSD < 0 || o.BudgetTokens < 0 {
		return fmt.Errorf("--budget-usd and --budget-tokens must not be negative")
	}
	if _, err := sandbox.ParseMode(o.Sandbox); err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	if o.DPONLL < 0 {
		return fmt.Errorf("--dpo-nll %g: want 0 (plain DPO) or more", o.DPONLL)
	}
	if o.Algorithm != "" {
		if _, err := rl.ParseAlgorithm(o.Algorithm); err != nil {
			return fmt.Errorf("--algorithm: %w", err)
		}
	}
	if _, err := backend.ParseTrainer(o.Trainer); err != nil {
		return err
	}
	if _, err := backend.ParseAdapterServer(o.AdapterServer); err != nil {
		return err
	}
	if _, err := loop.ParseAccept(o.Accept); err != nil {
		return fmt.Errorf("--%w", err)
	}
	if o.ConfirmFrac < 0 || o.ConfirmFrac > 0.5 {
		return fmt.Errorf("--confirm-frac %g: want 0 (none) up to 0.5", o.ConfirmFrac)
	}
	if o.Candidates < 1 || o.CandidateBudget < 0 {
		return fmt.Errorf("--candidates must be at least 1 and --candidate-budget not negative")
	}
	switch o.LeverChoice {
	case "", agent.LeverRules, agent.LeverBandit:
	default:
		return fmt.Errorf("--lever-choice %q: want bandit or rules", o.LeverChoice)
	}
	if strings.ContainsAny(o.RunID, `/\`) || o.RunID == "" {
		return fmt.Errorf("--run-id %q: want a plain name", o.RunID)
	}
	return nil
}

func newRunCmd(a *app) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Annotations: map[string]string{annInterrupted: "resume with sia run --resume"},
		Use:         "run",
		Short:       "Run (or resume) the self-improvement loop on a task",
		Long: `Run the generation loop: the Meta-Agent writes the first harness, the task agent rolls it out
on the val split, the verifier scores it, and the Feedback-Agent picks one lever per generation
(rewrite the harness, or train the weights). The best generation on val is kept and scored once
on the held-out test split at the end. Results go to RUNS_DIR/run_<id>/.`,
		Example: `  sia run --task demo --max-gen 6
  sia run --task spaceship-titanic --mode harness --max-gen 6
  sia --task lawbench --max_gen 5 --run_id 1        # the reference system's spelling
  sia run --resume runs/run_1                        # continue a killed run (its flags are in run.json)
  sia run --task demo --max-gen 10 --resume          # extend run_1 to 10 generations`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("runs-dir") {
				o.RunsDir = a.env.RunsDir()
			}
			if err := applySIA(cmd.Flags(), o, a.env); err != nil {
				return err
			}
			if len(args) == 1 && !o.Resume {
				return usage(fmt.Errorf("%q: a run folder argument goes with --resume (sia run --resume RUN_DIR)", args[0]))
			}
			if o.Resume {
				o.runDir = resumeDir(o, args)
				rec, err := readRecord(o.runDir)
				if err != nil {
					return err
				}
				if err := mergeResume(cmd.Flags(), o, rec, o.runDir); err != nil {
					return usage(err)
				}
			}
			if err := o.validate(); err != nil {
				return usage(err)
			}
			return a.run(cmd, o)
		},
	}
	bindRunFlags(cmd.Flags(), o)
	return cmd
}

// bindRunFlags declares `sia run`'s flags on fs, bound to o.
func bindRunFlags(f *pflag.FlagSet, o *runOptions) {
	f.StringVar(&o.Task, "task", "", "bundled task name (see: sia tasks)")
	f.StringVar(&o.TaskDir, "task-dir", "", "task folder in SIA's layout (data/public, data/private, reference/, optional task.yaml)")
	f.IntVar(&o.MaxGen, "max-gen", 3, "number of generations (the first is the Meta-Agent's harness)")
	f.StringVar(&o.RunID, "run-id", "1", "run id: results go to RUNS_DIR/run_<id>")
	f.StringVar(&o.RunsDir, "runs-dir", "runs", "folder holding run folders (env SIA_RUNS_DIR)")
	f.StringVar(&o.Mode, "mode", agent.ModeAuto, "levers: harness (SIA-H), weights (after gen 1), or auto (SIA-W+H)")
	f.StringVar(&o.MetaProfile, "meta-profile", "builtin", "Meta/Feedback-Agent profile: builtin (offline), or a profile name or JSON path")
	f.StringVar(&o.TargetProfile, "target-profile", "embedded", "task model profile: embedded (offline tinylm), or a profile name or JSON path")
	f.IntVar(&o.Samples, "samples", 1, "rollout samples per val and test item (scores are means over samples)")
	f.IntVar(&o.Parallel, "parallel", 0, "concurrent item solves (0 = number of CPUs)")
	f.Int64Var(&o.Seed, "seed", 1, "seed for every random choice; a run with the same seed is reproducible")
	f.BoolVar(&o.Resume, "resume", false, "continue a run from its last recorded step, with the flags it was started with (sia run --resume [RUN_DIR]; a larger --max-gen extends it)")
	f.StringVar(&o.Algorithm, "algorithm", "", "force the RL algorithm: ppo, entropic, grpo, reinforce_kl, dpo, best_of_n")
	f.StringVar(&o.Trainer, "trainer", "auto", "weights backend: auto (embedded for the embedded target, else none), none, embedded, command, tinker")
	f.DurationVar(&o.ItemTimeout, "item-timeout", 0, "hard timeout per item solve (0 = the task's default)")
	f.IntVar(&o.TrainItems, "train-items", 64, "train-split items a weight update rolls out on")
	f.IntVar(&o.TrainSamples, "train-samples", 4, "samples per train item for a weight update")
	f.IntVar(&o.TrainRounds, "train-rounds", 2, "on-policy rounds (roll out on train items, train) per weight update")
	f.Float64Var(&o.DPONLL, "dpo-nll", 0, "weight of an NLL term on DPO's chosen completions (RPO); 0 = plain DPO (embedded and command trainers)")
	f.Float64Var(&o.BudgetUSD, "budget-usd", 0, "stop model calls once the run has spent this many dollars (0 = no limit)")
	f.IntVar(&o.BudgetTokens, "budget-tokens", 0, "stop model calls once the run has used this many tokens (0 = no limit)")
	f.StringVar(&o.Harness, "harness", "", "start from this harness instead of the Meta-Agent's: a .star or .py file, or a folder holding one with its knobs.json (a run's best/ or gen_<n>/)")
	f.StringVar(&o.TrainerCommand, "trainer-command", "", "command template for --trainer command: {data} {config} {out} are filled in (docs/trainers/)")
	f.IntVar(&o.LoRARank, "lora-rank", 32, "LoRA rank for remote trainers (command, tinker)")
	f.StringVar(&o.AdapterServer, "adapter-server", "auto", "where new adapters are served: auto (vLLM when the target provider is vllm), vllm")
	f.StringVar(&o.Sandbox, "sandbox", "bwrap", "isolation for python harnesses and evaluate.py: bwrap (bubblewrap; the run refuses to start where it cannot) or none (no isolation, marked in sia show); env SIA_SANDBOX_MODE")
	f.StringVar(&o.Accept, "accept", loop.AcceptAny, "any: a candidate becomes the incumbent when its val score is higher (the paired sign-flip test is still recorded); a level such as 0.05: also when that one-sided test gives p below it (docs/benchmarks.md, Selection: why any is the default)")
	f.Float64Var(&o.ConfirmFrac, "confirm-frac", 0.25, "share of val held out of selection as the confirmation slice, seen once by the final incumbent (0: none; at least 4 items)")
	f.IntVar(&o.Candidates, "candidates", 1, "harness proposals per generation, ranked by successive halving on slices of val before the winner's full rollout (env SIA_BEST_OF_N)")
	f.IntVar(&o.CandidateBudget, "candidate-budget", 0, "solves (item × sample) ranking may spend per generation (0: one full val rollout's worth)")
	f.StringVar(&o.LeverChoice, "lever-choice", agent.LeverBandit, "how the builtin Feedback-Agent picks a lever: bandit (measured return per lever and algorithm, the rules as prior) or rules (the plateau rules alone)")
	bindSIAFlags(f, &o.SIA)
	f.BoolVar(&o.Web, "web", false, "serve the dashboard (sia web) of --runs-dir while the run goes on")
	f.StringVar(&o.WebAddr, "web-addr", defaultWebAddr, "HOST:PORT of the --web dashboard; an address beyond loopback gets a generated token")
}

// run opens the task and the run folder, builds the backends and runs the loop.
func (a *app) run(cmd *cobra.Command, o *runOptions) error {
	ctx := cmd.Context()
	t, err := a.openTask(o.Task, o.TaskDir, o.Seed)
	if err != nil {
		return err
	}
	data, err := t.Load(ctx)
	if err != nil {
		return err
	}
	if len(data.Items(task.Val)) == 0 {
		return fmt.Errorf("task %q has an empty val split", t.Spec.Name)
	}
	cfg, err := loopConfig(o, t)
	if err != nil {
		return err
	}
	dir := o.runDir
	if dir == "" {
		dir = filepath.Join(o.RunsDir, runstore.RunDirName(o.RunID))
	}
	// Fail on a bad profile, a missing API key or a sandbox that cannot
	// run before any work.
	be, err := backend.Build(ctx, a.backendOptions(o, t, data, filepath.Join(dir, runstore.TempDir)))
	if err != nil {
		return err
	}
	defer be.Close()
	if o.Web {
		stop, err := a.webBeside(ctx, o)
		if err != nil {
			return err
		}
		defer stop()
	}
	store, events, err := a.openRun(dir, &cfg, o)
	if err != nil {
		return err
	}
	defer store.Close()
	if scratch := be.ScratchDir(); scratch != "" {
		// Python scratch space inside the run folder: a killed run's
		// leftovers are swept when it is resumed, not left in /tmp.
		if err := os.MkdirAll(scratch, 0o755); err != nil {
			return err
		}
		defer os.RemoveAll(scratch)
	}
	if evalSandbox := be.Evaluator(); evalSandbox != nil {
		// evaluate.py's scratch copies of the task folder live in the run
		// folder too, swept on resume like the harnesses'.
		tmp := store.Path(runstore.TempDir)
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return err
		}
		t = t.WithEvaluator(task.Evaluator{Sandbox: evalSandbox, TempDir: tmp})
	}
	pr := newProgressPrinter(a.streams.Err, isTerminal(a.streams.Err))
	fmt.Fprintf(a.streams.Err, "sia: task %s · mode %s · %d val items · run folder %s\n", t.Spec.Name, o.Mode, len(data.Items(task.Val)), dir)
	st, err := loop.Run(ctx, cfg, be.Deps(loop.Deps{Task: t, Data: data, Store: store, Progress: pr.report, Docs: docs.FS}), events)
	pr.finish()
	if err != nil {
		return err
	}
	sum := report.FromState(cfg.RunID, cfg.Task, cfg.Mode, cfg.Metric, st)
	sum.Sandbox = cfg.Sandbox
	fmt.Fprintln(a.streams.Out)
	return sum.WriteText(a.streams.Out)
}

// loopConfig is the loop's configuration for the flags and the task,
// defaulted (once) and validated.
func loopConfig(o *runOptions, t *task.Task) (loop.Config, error) {
	taskDir := o.TaskDir
	if taskDir != "" {
		var err error
		if taskDir, err = filepath.Abs(taskDir); err != nil {
			return loop.Config{}, err
		}
	}
	cfg := loop.Config{
		RunID: o.RunID, Task: t.Spec.Name, TaskDir: taskDir, MaxGen: o.MaxGen, Mode: o.Mode,
		Samples: o.Samples, Parallel: o.Parallel, Seed: o.Seed, Algorithm: rl.Algorithm(o.Algorithm),
		ItemTimeout: loop.Duration(o.ItemTimeout), TrainItems: o.TrainItems, TrainSamples: o.TrainSamples, TrainRounds: o.TrainRounds,
		Metric: t.Spec.Metric, HigherIsBetter: t.Spec.HigherIsBetter(),
		MetaProfile: o.MetaProfile, TargetProfile: o.TargetProfile, Trainer: o.Trainer, InitialHarness: o.Harness,
		Accept: o.Accept, ConfirmFrac: o.ConfirmFrac, Candidates: o.Candidates, CandidateBudget: o.CandidateBudget,
		LeverChoice: o.LeverChoice,
	}
	if t.Spec.Runtime == "python" || t.Spec.Verifier == "evaluate.py" {
		if mode, err := sandbox.ParseMode(o.Sandbox); err == nil {
			cfg.Sandbox = string(mode)
		}
	}
	if cfg.ItemTimeout == 0 {
		cfg.ItemTimeout = loop.Duration(time.Duration(t.Spec.ItemTimeoutS * float64(time.Second)))
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

// openRun creates the run folder, or opens it to resume: then cfg takes
// the recorded run id, must match the recorded run, and a larger --max-gen
// extends it.
func (a *app) openRun(dir string, cfg *loop.Config, o *runOptions) (*runstore.Store, []runstore.Event, error) {
	if !o.Resume {
		store, err := runstore.Create(dir, recordOf(*cfg, o))
		return store, nil, err
	}
	store, events, err := runstore.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*runstore.Store, []runstore.Event, error) {
		store.Close()
		return nil, nil, err
	}
	var prev runRecord
	if err := store.ReadConfig(&prev); err != nil {
		return fail(err)
	}
	cfg.RunID = prev.RunID
	if err := sameRun(prev.Config, *cfg); err != nil {
		return fail(err)
	}
	if cfg.MaxGen > prev.MaxGen {
		if events, err = loop.Extend(store, events, cfg.MaxGen); err != nil {
			return fail(err)
		}
		prev.MaxGen = cfg.MaxGen
		if err := store.WriteConfig(prev); err != nil {
			return fail(err)
		}
		fmt.Fprintf(a.streams.Err, "sia: %s extended to %d generations\n", runstore.RunDirName(prev.RunID), cfg.MaxGen)
	}
	return store, events, nil
}

// sameRun refuses to resume a run folder with a different configuration:
// the result would match neither run. Only --max-gen may grow: that
// extends the run (loop.Extend).
func sameRun(prev, cur loop.Config) error {
	type key struct {
		Task, Mode  string
		Seed        int64
		Samples     int
		Algorithm   rl.Algorithm
		Accept      float64
		ConfirmFrac float64
		Candidates  int
		LeverChoice string
	}
	norm := func(c loop.Config) key {
		level, _ := loop.ParseAccept(c.Accept)
		lever := c.LeverChoice
		if lever == "" {
			lever = agent.LeverRules
		}
		return key{c.Task, c.Mode, c.Seed, c.Samples, c.Algorithm, level, c.ConfirmFrac, max(1, c.Candidates), lever}
	}
	p, c := norm(prev), norm(cur)
	if p != c {
		return fmt.Errorf("--resume: %s was started with %+v, not %+v; pass the same flags", runstore.RunDirName(prev.RunID), p, c)
	}
	if cur.MaxGen < prev.MaxGen {
		return fmt.Errorf("--resume: %s was started with --max-gen %d; a resume may keep or raise it, not lower it to %d", runstore.RunDirName(prev.RunID), prev.MaxGen, cur.MaxGen)
	}
	return nil
}

// openTask opens a bundled task or a task folder.
func (a *app) openTask(name, dir string, seed int64) (*task.Task, error) {
	reg, err := registry()
	if err != nil {
		return nil, err
	}
	if dir != "" {
		// Absolute, so every path derived from it (sandbox mounts, the
		// evaluator's working dir) means the same wherever it is used.
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("--task-dir %q: %w", dir, err)
		}
		return task.OpenDir(abs, reg)
	}
	// Generated tasks use a fixed data seed: runs with different --seed
	// values then compare methods on the same items.
	_ = seed
	return reg.Open(name, task.Options{DataRoot: a.env.DataDir()})
}

// exists reports whether a path exists.
func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
