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
	"github.com/sia-agent/sia/docs"
	"github.com/sia-agent/sia/harness/python"
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
	// BestOfN is SIA_BEST_OF_N, the candidate harnesses per generation; only
	// 1 is supported (applySIA refuses more).
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
	switch o.Trainer {
	case "auto", "none", "embedded", "command", "tinker":
	default:
		return fmt.Errorf("--trainer %q: want auto, none, embedded, command or tinker", o.Trainer)
	}
	if strings.ContainsAny(o.RunID, `/\`) || o.RunID == "" {
		return fmt.Errorf("--run-id %q: want a plain name", o.RunID)
	}
	return nil
}

func newRunCmd(a *app) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run (or resume) the self-improvement loop on a task",
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
	taskDir := o.TaskDir
	if taskDir != "" {
		if taskDir, err = filepath.Abs(taskDir); err != nil {
			return err
		}
	}
	cfg := loop.Config{
		RunID: o.RunID, Task: t.Spec.Name, TaskDir: taskDir, MaxGen: o.MaxGen, Mode: o.Mode,
		Samples: o.Samples, Parallel: o.Parallel, Seed: o.Seed, Algorithm: rl.Algorithm(o.Algorithm),
		ItemTimeout: loop.Duration(o.ItemTimeout), TrainItems: o.TrainItems, TrainSamples: o.TrainSamples, TrainRounds: o.TrainRounds,
		Metric: t.Spec.Metric, HigherIsBetter: t.Spec.HigherIsBetter(),
		MetaProfile: o.MetaProfile, TargetProfile: o.TargetProfile, Trainer: o.Trainer, InitialHarness: o.Harness,
	}
	if t.Spec.Runtime == "python" || t.Spec.Verifier == "evaluate.py" {
		if mode, err := sandbox.ParseMode(o.Sandbox); err == nil {
			cfg.Sandbox = string(mode)
		}
	}
	if cfg.ItemTimeout == 0 {
		cfg.ItemTimeout = loop.Duration(time.Duration(t.Spec.ItemTimeoutS * float64(time.Second)))
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Fail on a bad profile or a missing API key before any work.
	be, err := a.buildBackends(ctx, o, t, data)
	if err != nil {
		return err
	}
	defer be.close()
	if o.Mode == agent.ModeWeights && be.trainer == nil {
		return fmt.Errorf("--mode weights needs a trainer, and target profile %q has none (use --trainer, or --mode auto)", o.TargetProfile)
	}
	evalSandbox, err := a.evaluatorSandbox(ctx, o.Sandbox, t, be.runtime)
	if err != nil {
		return err
	}
	if o.Web {
		stop, err := a.webBeside(ctx, o)
		if err != nil {
			return err
		}
		defer stop()
	}
	dir := o.runDir
	if dir == "" {
		dir = filepath.Join(o.RunsDir, "run_"+o.RunID)
	}
	var (
		store  *runstore.Store
		events []runstore.Event
	)
	if o.Resume {
		var prev runRecord
		store, events, err = runstore.Open(dir)
		if err != nil {
			return err
		}
		if err := store.ReadJSON("run.json", &prev); err != nil {
			store.Close()
			return err
		}
		cfg.RunID = prev.RunID
		if err := sameRun(prev.Config, cfg); err != nil {
			store.Close()
			return err
		}
		if cfg.MaxGen > prev.MaxGen {
			if events, err = loop.Extend(store, events, cfg.MaxGen); err != nil {
				store.Close()
				return err
			}
			prev.MaxGen = cfg.MaxGen
			if err := store.WriteJSON("run.json", prev); err != nil {
				store.Close()
				return err
			}
			fmt.Fprintf(a.streams.Err, "sia: run_%s extended to %d generations\n", prev.RunID, cfg.MaxGen)
		}
	} else {
		store, err = runstore.Create(dir, recordOf(cfg, o))
		if err != nil {
			return err
		}
	}
	defer store.Close()
	if py, ok := be.runtime.(*python.Runtime); ok {
		// Scratch space inside the run folder: a killed run's leftovers
		// are swept when it is resumed, not left in the system's /tmp.
		py.TempDir = store.Path(runstore.TempDir)
		if err := os.MkdirAll(py.TempDir, 0o755); err != nil {
			return err
		}
		defer os.RemoveAll(py.TempDir)
	}
	if evalSandbox != nil {
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
	st, err := loop.Run(ctx, cfg, loop.Deps{
		Task: t, Data: data, Runtime: be.runtime, Meta: be.meta, Feedback: be.feedback,
		Trainer: be.trainer, Policy: be.policy, Store: store, Progress: pr.report,
		Gateway: be.gateway, GatewayURL: be.gatewayURL, GatewayKey: be.gateway.APIKey(), Docs: docs.FS,
		Spend: func() agent.Budget {
			u := be.budget.Spent()
			return agent.Budget{SpentTokens: u.PromptTokens + u.CompletionTokens, SpentUSD: u.CostUSD, LimitTokens: o.BudgetTokens, LimitUSD: o.BudgetUSD}
		},
	}, events)
	pr.finish()
	if err != nil {
		return err
	}
	sum := report.FromState(cfg.RunID, cfg.Task, cfg.Mode, cfg.Metric, st)
	sum.Sandbox = cfg.Sandbox
	fmt.Fprintln(a.streams.Out)
	return sum.WriteText(a.streams.Out)
}

// sameRun refuses to resume a run folder with a different configuration:
// the result would match neither run. Only --max-gen may grow: that
// extends the run (loop.Extend).
func sameRun(prev, cur loop.Config) error {
	type key struct {
		Task, Mode string
		Seed       int64
		Samples    int
		Algorithm  rl.Algorithm
	}
	p := key{prev.Task, prev.Mode, prev.Seed, prev.Samples, prev.Algorithm}
	c := key{cur.Task, cur.Mode, cur.Seed, cur.Samples, cur.Algorithm}
	if p != c {
		return fmt.Errorf("--resume: run_%s was started with %+v, not %+v; pass the same flags", prev.RunID, p, c)
	}
	if cur.MaxGen < prev.MaxGen {
		return fmt.Errorf("--resume: run_%s was started with --max-gen %d; a resume may keep or raise it, not lower it to %d", prev.RunID, prev.MaxGen, cur.MaxGen)
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
