package cli

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/agent"
)

// This file maps the reference SIA system's CLI flags and SIA_* settings
// (hexo-ai/sia: sia/cli.py, sia/config.py, docs/configuration.md) onto sia
// run's options. A setting with a meaning here is applied; one without
// fails with one line saying what to use instead, so nothing a SIA user
// asks for is silently ignored.

// siaFlags are SIA's spellings of `sia run` flags (those that differ from
// ours; --max_gen, --run_id and --task_dir are aliases by normalisation).
type siaFlags struct {
	MetaAgentProfile   string
	TargetAgentProfile string
	Focus              string
	NoWeb              bool
	LogLevel           string
	NoKnowledgeGraph   bool
	// Flags with no meaning here: declared so that they parse, then refused.
	KnowledgeGraph  bool
	TrainingSandbox string
	WebPort         int
	WebHost         string
	Backend         string
	MetaModel       string
	TaskModel       string
}

// bindSIAFlags declares SIA's flags on f. The refused ones are hidden from
// --help (README lists them with what to use instead).
func bindSIAFlags(f *pflag.FlagSet, s *siaFlags) {
	f.StringVar(&s.MetaAgentProfile, "meta-agent-profile", "", "SIA's spelling of --meta-profile (env SIA_META_AGENT_PROFILE)")
	f.StringVar(&s.TargetAgentProfile, "target-agent-profile", "", "SIA's spelling of --target-profile (env SIA_TARGET_AGENT_PROFILE)")
	f.StringVar(&s.Focus, "focus", "", "SIA's lever choice: harness (= --mode harness) or weights (= --mode weights)")
	f.BoolVar(&s.NoWeb, "no-web", false, "SIA's switch for its live dashboard; sia run starts none, so this changes nothing")
	f.StringVar(&s.LogLevel, "log-level", "", "DEBUG, INFO, WARNING, ERROR or CRITICAL (env SIA_LOG_LEVEL); DEBUG adds a line per model call through the gateway")
	f.BoolVar(&s.NoKnowledgeGraph, "no-knowledge-graph", false, "SIA's switch for its experiment knowledge graph; sia keeps none, so this changes nothing")
	f.BoolVar(&s.KnowledgeGraph, "knowledge-graph", false, "refused: sia keeps no experiment knowledge graph")
	f.StringVar(&s.TrainingSandbox, "training-sandbox", "", "refused: see --trainer")
	f.IntVar(&s.WebPort, "web-port", 0, "refused: sia run starts no dashboard")
	f.StringVar(&s.WebHost, "web-host", "", "refused: sia run starts no dashboard")
	f.StringVar(&s.Backend, "backend", "", "refused: use --meta-profile")
	f.StringVar(&s.MetaModel, "meta-model", "", "refused: use --meta-profile")
	f.StringVar(&s.TaskModel, "task-model", "", "refused: use --target-profile")
	for _, name := range []string{"knowledge-graph", "training-sandbox", "web-port", "web-host", "backend", "meta-model", "task-model"} {
		_ = f.MarkHidden(name)
	}
}

// refusedFlags say what to use instead of SIA flags that mean nothing here.
var refusedFlags = []struct{ name, line string }{
	{"knowledge-graph", "--knowledge-graph: sia keeps no experiment knowledge graph; the run so far is in RUNS_DIR/run_<id>/context.md (drop the flag)"},
	{"training-sandbox", "--training_sandbox: sia runs no training rollouts in Modal or SandboxFusion; pick the weights backend with --trainer embedded|command|tinker"},
	{"web-port", "--web-port: sia run starts no dashboard; read a run with `sia show RUN_DIR`"},
	{"web-host", "--web-host: sia run starts no dashboard; read a run with `sia show RUN_DIR`"},
	{"backend", "--backend: pick the Meta/Feedback-Agents with --meta-profile (a profile's agent_impl)"},
	{"meta-model", "--meta-model: put the model in a meta profile and pass --meta-profile (docs/profiles.md)"},
	{"task-model", "--task-model: put the model in a target profile and pass --target-profile (docs/profiles.md)"},
}

// siaSetting is one SIA_* variable: apply maps it onto the options, or
// refuse says what to use instead. apply sees only set variables.
type siaSetting struct {
	name   string
	apply  func(o *runOptions, v string) error
	refuse string
}

// siaSettings are the SIA_* variables of SIA's config.py and docs, in the
// order they are checked. SIA_PROFILES_DIR and SIA_PROVIDERS_DIR are read
// where profiles are loaded (siaProfileDirs).
var siaSettings = []siaSetting{
	{name: "SIA_META_AGENT_PROFILE", apply: func(o *runOptions, v string) error { o.siaDefaults.meta = v; return nil }},
	{name: "SIA_TARGET_AGENT_PROFILE", apply: func(o *runOptions, v string) error { o.siaDefaults.target = v; return nil }},
	{name: "SIA_MAX_GENERATIONS", apply: func(o *runOptions, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("SIA_MAX_GENERATIONS=%q: want a positive integer", v)
		}
		o.siaDefaults.maxGen = n
		return nil
	}},
	{name: "SIA_MAX_TURNS", apply: func(o *runOptions, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			return fmt.Errorf("SIA_MAX_TURNS=%q: want an integer of at least 2 (the LLM agents' turn limit)", v)
		}
		o.AgentMaxTurns = n
		return nil
	}},
	{name: "SIA_SANDBOX_MODE", apply: func(o *runOptions, v string) error { o.siaDefaults.sandbox = v; return nil }},
	{name: "SIA_LOG_LEVEL", apply: func(o *runOptions, v string) error { o.siaDefaults.logLevel = v; return nil }},
	{name: "SIA_EARLY_STOP_THRESHOLD", apply: func(o *runOptions, v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("SIA_EARLY_STOP_THRESHOLD=%q: want a number (the val score that ends the run)", v)
		}
		o.EarlyStop = &x
		return nil
	}},
	{name: "SIA_BEST_OF_N", apply: func(o *runOptions, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("SIA_BEST_OF_N=%q: want a positive integer", v)
		}
		o.BestOfN = n
		return nil
	}},
	{name: "SIA_BEST_OF_N_SELECTION", apply: checkChoice("SIA_BEST_OF_N_SELECTION", "accuracy")},
	{name: "SIA_BEST_OF_N_TIEBREAK", apply: checkChoice("SIA_BEST_OF_N_TIEBREAK", "smaller_code")},
	{name: "SIA_BEST_OF_N_CONCURRENCY", apply: checkInt("SIA_BEST_OF_N_CONCURRENCY")},
	{name: "SIA_BEST_OF_N_STAGGER_SECONDS", apply: checkFloat("SIA_BEST_OF_N_STAGGER_SECONDS")},
	{name: "SIA_BASE_ON_BEST", apply: onlyTrue("SIA_BASE_ON_BEST", "sia always builds the next harness on the best generation (keep-best)")},
	{name: "SIA_REJECT_REGRESSION", apply: onlyTrue("SIA_REJECT_REGRESSION", "sia never keeps a generation that scores below the incumbent on val")},
	{name: "SIA_VAL_FRACTION", refuse: "SIA_VAL_FRACTION: sia carves each task's val split itself (its size is in `sia tasks --json`); unset it"},
	{name: "SIA_TRIAGE", refuse: "SIA_TRIAGE: sia has no pre-execution triage of candidates; unset it"},
	{name: "SIA_ENSEMBLE", refuse: "SIA_ENSEMBLE: sia does not ensemble candidate harnesses; voting belongs in the harness (its KNOBS); unset it"},
	{name: "SIA_REPAIR_RETRIES", refuse: "SIA_REPAIR_RETRIES: sia has no repair loop; a failing harness is scored as is and the Feedback-Agent sees why; unset it"},
	{name: "SIA_LOCAL_ADAPT", refuse: "SIA_LOCAL_ADAPT: sia's agents take no plain-script directive; unset it"},
	{name: "SIA_FAILURE_TAXONOMY", refuse: "SIA_FAILURE_TAXONOMY: sia's Feedback-Agent reads the gold-free verdicts with its tools; there is no digest to switch; unset it"},
	{name: "SIA_FAILURE_TAXONOMY_TOP_N", refuse: "SIA_FAILURE_TAXONOMY_TOP_N: sia has no failure-taxonomy digest; unset it"},
	{name: "SIA_VERIFIER_PASS_STATUSES", refuse: "SIA_VERIFIER_PASS_STATUSES: sia's verifiers score each item in [0,1]; there are no pass statuses; unset it"},
	{name: "SIA_FEEDBACK_FAILURE_SAMPLES", refuse: "SIA_FEEDBACK_FAILURE_SAMPLES: sia's Feedback-Agent reads all gold-free verdicts with its tools; unset it"},
	{name: "SIA_CHANGE_LIBRARY", refuse: "SIA_CHANGE_LIBRARY: sia's Meta-Agent gets docs/harness.md, not a change library; unset it"},
	{name: "SIA_CHANGE_LIBRARY_PATH", refuse: "SIA_CHANGE_LIBRARY_PATH: sia has no change library; unset it"},
	{name: "SIA_REGRESSION_REPROMPT_MAX", refuse: "SIA_REGRESSION_REPROMPT_MAX: sia does not re-prompt after a regression (keep-best discards it); unset it"},
	{name: "SIA_ALLOW_TASK_FAMILY_SPECIALIZATION", refuse: "SIA_ALLOW_TASK_FAMILY_SPECIALIZATION: sia's agent prompts have no such switch; unset it"},
	{name: "SIA_META_MODEL", refuse: "SIA_META_MODEL: put the model in a meta profile and set SIA_META_AGENT_PROFILE or --meta-profile"},
	{name: "SIA_TASK_MODEL", refuse: "SIA_TASK_MODEL: put the model in a target profile and set SIA_TARGET_AGENT_PROFILE or --target-profile"},
	{name: "SIA_AGENT_IMPL", refuse: "SIA_AGENT_IMPL: the agent impl is a meta profile's agent_impl; pass --meta-profile"},
	{name: "SIA_BACKEND", refuse: "SIA_BACKEND: the agent impl is a meta profile's agent_impl; pass --meta-profile"},
}

func checkChoice(name string, values ...string) func(*runOptions, string) error {
	return func(_ *runOptions, v string) error {
		for _, ok := range values {
			if v == ok {
				return nil
			}
		}
		return fmt.Errorf("%s=%q: want %s", name, v, strings.Join(values, " or "))
	}
}

func checkInt(name string) func(*runOptions, string) error {
	return func(_ *runOptions, v string) error {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return fmt.Errorf("%s=%q: want a non-negative integer", name, v)
		}
		return nil
	}
}

func checkFloat(name string) func(*runOptions, string) error {
	return func(_ *runOptions, v string) error {
		if x, err := strconv.ParseFloat(v, 64); err != nil || x < 0 {
			return fmt.Errorf("%s=%q: want a non-negative number", name, v)
		}
		return nil
	}
}

// onlyTrue accepts a SIA switch set to what sia always does.
func onlyTrue(name, why string) func(*runOptions, string) error {
	return func(_ *runOptions, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "1", "true", "yes", "on":
			return nil
		case "0", "false", "no", "off":
			return fmt.Errorf("%s=%s: %s; there is no way to turn that off, unset it", name, v, why)
		}
		return fmt.Errorf("%s=%q: want true or false", name, v)
	}
}

// siaDefaults hold SIA_* values that apply only where no flag was given.
type siaDefaults struct {
	meta, target, sandbox, logLevel string
	maxGen                          int
}

// applySIA folds SIA's flags and SIA_* settings into o; flags win over the
// environment, and one of ours set to a different value than its SIA
// spelling is an error.
func applySIA(f *pflag.FlagSet, o *runOptions, env Env) error {
	for _, r := range refusedFlags {
		if f.Changed(r.name) {
			return fmt.Errorf("%s", r.line)
		}
	}
	for _, s := range siaSettings {
		v := env.Get(s.name)
		if v == "" {
			continue
		}
		if s.apply == nil {
			return fmt.Errorf("%s", s.refuse)
		}
		if err := s.apply(o, v); err != nil {
			return err
		}
	}
	s, d := &o.SIA, o.siaDefaults
	if err := alias(f, "meta-profile", "meta-agent-profile", &o.MetaProfile, s.MetaAgentProfile, d.meta); err != nil {
		return err
	}
	if err := alias(f, "target-profile", "target-agent-profile", &o.TargetProfile, s.TargetAgentProfile, d.target); err != nil {
		return err
	}
	if d.maxGen > 0 && !f.Changed("max-gen") {
		o.MaxGen = d.maxGen
	}
	// SIA_BEST_OF_N is the default of --candidates: that many harness
	// proposals per generation, ranked on slices of val.
	if o.BestOfN > 0 && !f.Changed("candidates") {
		o.Candidates = o.BestOfN
	}
	if s.Focus != "" {
		if s.Focus != agent.ModeHarness && s.Focus != agent.ModeWeights {
			return fmt.Errorf("--focus %q: want harness or weights (or --mode harness|weights|auto)", s.Focus)
		}
		if f.Changed("mode") && o.Mode != s.Focus {
			return fmt.Errorf("--focus %s and --mode %s disagree; pass one", s.Focus, o.Mode)
		}
		o.Mode = s.Focus
	}
	// --sandbox is sia's own flag (bwrap or none; it refuses SIA's docker
	// with what to use instead); SIA_SANDBOX_MODE is its default.
	if d.sandbox != "" && !f.Changed("sandbox") {
		o.Sandbox = d.sandbox
	}
	level := s.LogLevel
	if level == "" {
		level = d.logLevel
	}
	lv, err := parseLogLevel(level)
	if err != nil {
		return err
	}
	o.LogLevel = lv
	return nil
}

// alias resolves one of our flags and its SIA spelling.
func alias(f *pflag.FlagSet, ours, theirs string, dst *string, theirValue, envDefault string) error {
	switch {
	case f.Changed(theirs) && f.Changed(ours) && *dst != theirValue:
		return fmt.Errorf("--%s %s and --%s %s disagree; pass one", ours, *dst, theirs, theirValue)
	case f.Changed(theirs):
		*dst = theirValue
	case !f.Changed(ours) && envDefault != "":
		*dst = envDefault
	}
	return nil
}

// parseLogLevel reads SIA's (Python logging's) level names.
func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "INFO":
		return slog.LevelInfo, nil
	case "DEBUG":
		return slog.LevelDebug, nil
	case "WARNING", "WARN":
		return slog.LevelWarn, nil
	case "ERROR", "CRITICAL":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("--log-level %q: want DEBUG, INFO, WARNING, ERROR or CRITICAL", s)
}

// siaProfileDirs are SIA's user folders for profiles and providers:
// $SIA_PROFILES_DIR / $SIA_PROVIDERS_DIR, else ./profiles and ./providers.
func siaProfileDirs(env Env) (profiles, providers string) {
	profiles, providers = env.Get("SIA_PROFILES_DIR"), env.Get("SIA_PROVIDERS_DIR")
	if profiles == "" {
		profiles = "profiles"
	}
	if providers == "" {
		providers = "providers"
	}
	return profiles, providers
}
