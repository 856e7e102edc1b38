package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/runstore"
)

// runRecord is run.json: the loop's configuration plus the CLI's own
// flags, so `sia run --resume RUN` needs no flag typed again.
type runRecord struct {
	loop.Config
	CLI recordedFlags `json:"cli"`
}

// recordedFlags are the run flags the loop's Config does not hold.
type recordedFlags struct {
	BudgetUSD      float64 `json:"budget_usd,omitempty"`
	BudgetTokens   int     `json:"budget_tokens,omitempty"`
	TrainerCommand string  `json:"trainer_command,omitempty"`
	LoRARank       int     `json:"lora_rank,omitempty"`
	AdapterServer  string  `json:"adapter_server,omitempty"`
	Sandbox        string  `json:"sandbox,omitempty"`
	DPONLL         float64 `json:"dpo_nll,omitempty"`
}

func recordOf(cfg loop.Config, o *runOptions) runRecord {
	return runRecord{Config: cfg, CLI: recordedFlags{BudgetUSD: o.BudgetUSD, BudgetTokens: o.BudgetTokens,
		TrainerCommand: o.TrainerCommand, LoRARank: o.LoRARank, AdapterServer: o.AdapterServer, Sandbox: o.Sandbox,
		DPONLL: o.DPONLL}}
}

// resumeDir is the run folder a resume names: the argument (a run folder
// path), else RUNS_DIR/run_<id>.
func resumeDir(o *runOptions, args []string) string {
	if len(args) == 1 {
		return filepath.Clean(args[0])
	}
	return filepath.Join(o.RunsDir, runstore.RunDirName(o.RunID))
}

// readRecord reads a run folder's config snapshot (run.json).
func readRecord(dir string) (runRecord, error) {
	var rec runRecord
	if !runstore.IsRunDir(dir) {
		return rec, fmt.Errorf("--resume: %s is not a run folder (it has no %s)", dir, runstore.ConfigFile)
	}
	if err := runstore.ReadConfig(dir, &rec); err != nil {
		return rec, fmt.Errorf("--resume: %w", err)
	}
	return rec, nil
}

// recordedFlag ties a flag to its value in run.json.
type recordedFlag struct {
	name  string
	saved string       // the value the run was started with, as the flag spells it
	set   func() error // sets the option to the saved value
	// mayDiffer says a new value may replace the saved one (it extends
	// the run or changes nothing the run's results depend on).
	mayDiffer func(now string) bool
}

// mergeResume fills every run flag not given on the command line from the
// run's record, and refuses a given flag that contradicts it: the resumed
// run would match neither the old run nor the new command.
func mergeResume(fs *pflag.FlagSet, o *runOptions, rec runRecord, dir string) error {
	c := rec.Config
	str := func(p *string, v string) func() error { return func() error { *p = v; return nil } }
	num := func(p *int, v int) func() error { return func() error { *p = v; return nil } }
	taskFlag, taskVal := "task", c.Task
	if c.TaskDir != "" {
		taskFlag, taskVal = "task-dir", c.TaskDir
	}
	flags := []recordedFlag{
		{name: taskFlag, saved: taskVal, set: func() error {
			if c.TaskDir != "" {
				o.TaskDir, o.Task = c.TaskDir, ""
			} else {
				o.Task, o.TaskDir = c.Task, ""
			}
			return nil
		}},
		{name: "max-gen", saved: strconv.Itoa(c.MaxGen), set: num(&o.MaxGen, c.MaxGen), mayDiffer: func(now string) bool {
			n, err := strconv.Atoi(now)
			return err == nil && n >= c.MaxGen // a larger --max-gen extends the run
		}},
		{name: "mode", saved: c.Mode, set: str(&o.Mode, c.Mode)},
		{name: "meta-profile", saved: c.MetaProfile, set: str(&o.MetaProfile, c.MetaProfile)},
		{name: "target-profile", saved: c.TargetProfile, set: str(&o.TargetProfile, c.TargetProfile)},
		{name: "samples", saved: strconv.Itoa(c.Samples), set: num(&o.Samples, c.Samples)},
		{name: "seed", saved: strconv.FormatInt(c.Seed, 10), set: func() error { o.Seed = c.Seed; return nil }},
		{name: "algorithm", saved: string(c.Algorithm), set: str(&o.Algorithm, string(c.Algorithm))},
		{name: "trainer", saved: c.Trainer, set: str(&o.Trainer, c.Trainer)},
		{name: "item-timeout", saved: time.Duration(c.ItemTimeout).String(), set: func() error { o.ItemTimeout = time.Duration(c.ItemTimeout); return nil }},
		{name: "train-items", saved: strconv.Itoa(c.TrainItems), set: num(&o.TrainItems, c.TrainItems)},
		{name: "train-samples", saved: strconv.Itoa(c.TrainSamples), set: num(&o.TrainSamples, c.TrainSamples)},
		{name: "train-rounds", saved: strconv.Itoa(c.TrainRounds), set: num(&o.TrainRounds, c.TrainRounds)},
		{name: "harness", saved: c.InitialHarness, set: str(&o.Harness, c.InitialHarness)},
		{name: "trainer-command", saved: rec.CLI.TrainerCommand, set: str(&o.TrainerCommand, rec.CLI.TrainerCommand)},
		{name: "lora-rank", saved: strconv.Itoa(rec.CLI.LoRARank), set: num(&o.LoRARank, rec.CLI.LoRARank)},
		{name: "adapter-server", saved: rec.CLI.AdapterServer, set: str(&o.AdapterServer, rec.CLI.AdapterServer)},
		{name: "sandbox", saved: rec.CLI.Sandbox, set: str(&o.Sandbox, rec.CLI.Sandbox)},
		{name: "accept", saved: orAny(c.Accept), set: str(&o.Accept, orAny(c.Accept))},
		{name: "confirm-frac", saved: strconv.FormatFloat(c.ConfirmFrac, 'g', -1, 64), set: func() error { o.ConfirmFrac = c.ConfirmFrac; return nil }},
		{name: "candidates", saved: strconv.Itoa(max(1, c.Candidates)), set: num(&o.Candidates, max(1, c.Candidates))},
		{name: "candidate-budget", saved: strconv.Itoa(c.CandidateBudget), set: num(&o.CandidateBudget, c.CandidateBudget)},
		{name: "lever-choice", saved: orRules(c.LeverChoice), set: str(&o.LeverChoice, orRules(c.LeverChoice))},
		{name: "dpo-nll", saved: strconv.FormatFloat(rec.CLI.DPONLL, 'g', -1, 64), set: func() error { o.DPONLL = rec.CLI.DPONLL; return nil }},
		// Budgets may be raised or lowered on a resume: they bound spending
		// from here on, not the run's results.
		{name: "budget-usd", saved: strconv.FormatFloat(rec.CLI.BudgetUSD, 'g', -1, 64), set: func() error { o.BudgetUSD = rec.CLI.BudgetUSD; return nil }, mayDiffer: anyValue},
		{name: "budget-tokens", saved: strconv.Itoa(rec.CLI.BudgetTokens), set: num(&o.BudgetTokens, rec.CLI.BudgetTokens), mayDiffer: anyValue},
	}
	if fs.Changed("task") && fs.Changed("task-dir") {
		return fmt.Errorf("give at most one of --task and --task-dir")
	}
	other := map[string]string{"task": "task-dir", "task-dir": "task"}[taskFlag]
	if fs.Changed(other) {
		return fmt.Errorf("--resume: %s was started with --%s %s; drop --%s to resume it", dir, taskFlag, taskVal, other)
	}
	for _, f := range flags {
		if !fs.Changed(f.name) {
			if f.saved == "" && (f.name == "sandbox" || f.name == "adapter-server" || f.name == "trainer") {
				continue // an older run.json: keep the flag's default
			}
			if err := f.set(); err != nil {
				return err
			}
			continue
		}
		now := fs.Lookup(f.name).Value.String()
		if same(f.name, now, f.saved) || (f.mayDiffer != nil && f.mayDiffer(now)) {
			continue
		}
		return fmt.Errorf("--resume: %s was started with --%s %s, not %s; drop the flag to keep the run's value", dir, f.name, show(f.saved), show(now))
	}
	return nil
}

func anyValue(string) bool { return true }

// orAny and orRules read a run.json from before the selection flags: it
// kept any strict improvement and chose levers by the plateau rules.
func orAny(s string) string {
	if s == "" {
		return loop.AcceptAny
	}
	return s
}

func orRules(s string) string {
	if s == "" {
		return agent.LeverRules
	}
	return s
}

// same compares a flag's new and saved spellings, as values.
func same(name, now, saved string) bool {
	switch name {
	case "item-timeout":
		a, err1 := time.ParseDuration(now)
		b, err2 := time.ParseDuration(saved)
		return err1 == nil && err2 == nil && (a == b || a == 0)
	case "algorithm":
		a, _ := rl.ParseAlgorithm(now)
		b, _ := rl.ParseAlgorithm(saved)
		return a == b
	case "accept":
		a, err1 := loop.ParseAccept(now)
		b, err2 := loop.ParseAccept(saved)
		return err1 == nil && err2 == nil && a == b
	case "confirm-frac", "dpo-nll":
		a, err1 := strconv.ParseFloat(now, 64)
		b, err2 := strconv.ParseFloat(saved, 64)
		return err1 == nil && err2 == nil && a == b
	case "task-dir", "harness":
		a, _ := filepath.Abs(now)
		b, _ := filepath.Abs(saved)
		return a == b
	}
	return strings.TrimSpace(now) == strings.TrimSpace(saved)
}

func show(v string) string {
	if v == "" {
		return `""`
	}
	return v
}
