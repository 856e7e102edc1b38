package cli

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/sia-agent/sia/agent"
)

// parseSIA parses args as `sia run` does (SIA's underscores normalised),
// then applies SIA's flags and the given SIA_* environment.
func parseSIA(t *testing.T, env map[string]string, args ...string) (*runOptions, error) {
	t.Helper()
	o := &runOptions{}
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	bindRunFlags(fs, o)
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := applySIA(fs, o, Env{get: func(k string) string { return env[k] }}); err != nil {
		return nil, err
	}
	return o, o.validate()
}

func TestSIAFlagsAndEnv(t *testing.T) {
	task := []string{"--task", "demo"}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		check   func(*runOptions) bool
	}{
		{"profile spellings", nil, []string{"--meta-agent-profile", "claude-meta", "--target-agent-profile", "./p.json"}, "",
			func(o *runOptions) bool { return o.MetaProfile == "claude-meta" && o.TargetProfile == "./p.json" }},
		{"same value both spellings", nil, []string{"--meta-profile", "x", "--meta-agent-profile", "x"}, "",
			func(o *runOptions) bool { return o.MetaProfile == "x" }},
		{"spellings disagree", nil, []string{"--target-profile", "a", "--target-agent-profile", "b"}, "disagree", nil},
		{"profile env defaults", map[string]string{"SIA_META_AGENT_PROFILE": "m1", "SIA_TARGET_AGENT_PROFILE": "t1"}, nil, "",
			func(o *runOptions) bool { return o.MetaProfile == "m1" && o.TargetProfile == "t1" }},
		{"flag beats env", map[string]string{"SIA_META_AGENT_PROFILE": "m1"}, []string{"--meta-profile", "m2"}, "",
			func(o *runOptions) bool { return o.MetaProfile == "m2" }},
		{"focus weights", nil, []string{"--focus", "weights"}, "", func(o *runOptions) bool { return o.Mode == agent.ModeWeights }},
		{"focus harness", nil, []string{"--focus", "harness"}, "", func(o *runOptions) bool { return o.Mode == agent.ModeHarness }},
		{"focus and mode agree", nil, []string{"--focus", "harness", "--mode", "harness"}, "", func(o *runOptions) bool { return o.Mode == agent.ModeHarness }},
		{"focus and mode disagree", nil, []string{"--focus", "weights", "--mode", "harness"}, "disagree", nil},
		{"bad focus", nil, []string{"--focus", "both"}, "--focus", nil},
		{"sandbox env", map[string]string{"SIA_SANDBOX_MODE": "none"}, nil, "", func(o *runOptions) bool { return o.Sandbox == "none" }},
		{"sandbox flag beats env", map[string]string{"SIA_SANDBOX_MODE": "none"}, []string{"--sandbox", "bwrap"}, "",
			func(o *runOptions) bool { return o.Sandbox == "bwrap" }},
		{"SIA's docker sandbox", map[string]string{"SIA_SANDBOX_MODE": "docker"}, nil, "bubblewrap", nil},
		{"SIA's docker flag", nil, []string{"--sandbox", "docker"}, "--sandbox none", nil},
		{"bad sandbox", map[string]string{"SIA_SANDBOX_MODE": "vm"}, nil, "unknown sandbox", nil},
		{"no-web and no-knowledge-graph", nil, []string{"--no-web", "--no-knowledge-graph"}, "", func(o *runOptions) bool { return o.SIA.NoWeb }},
		{"log level", nil, []string{"--log-level", "DEBUG"}, "", func(o *runOptions) bool { return o.LogLevel == slog.LevelDebug }},
		{"log level env", map[string]string{"SIA_LOG_LEVEL": "warning"}, nil, "", func(o *runOptions) bool { return o.LogLevel == slog.LevelWarn }},
		{"bad log level", nil, []string{"--log-level", "LOUD"}, "--log-level", nil},
		{"max generations env", map[string]string{"SIA_MAX_GENERATIONS": "7"}, nil, "", func(o *runOptions) bool { return o.MaxGen == 7 }},
		{"max_gen beats env", map[string]string{"SIA_MAX_GENERATIONS": "7"}, []string{"--max_gen", "2"}, "", func(o *runOptions) bool { return o.MaxGen == 2 }},
		{"max turns", map[string]string{"SIA_MAX_TURNS": "50"}, nil, "", func(o *runOptions) bool { return o.AgentMaxTurns == 50 }},
		{"bad max turns", map[string]string{"SIA_MAX_TURNS": "lots"}, nil, "SIA_MAX_TURNS", nil},
		{"early stop", map[string]string{"SIA_EARLY_STOP_THRESHOLD": "0.8"}, nil, "", func(o *runOptions) bool { return o.EarlyStop != nil && *o.EarlyStop == 0.8 }},
		{"bad early stop", map[string]string{"SIA_EARLY_STOP_THRESHOLD": "high"}, nil, "SIA_EARLY_STOP_THRESHOLD", nil},
		{"best of one", map[string]string{"SIA_BEST_OF_N": "1", "SIA_BEST_OF_N_SELECTION": "accuracy"}, nil, "", func(o *runOptions) bool { return o.BestOfN == 1 && o.Candidates == 1 }},
		{"best of four", map[string]string{"SIA_BEST_OF_N": "4"}, nil, "", func(o *runOptions) bool { return o.BestOfN == 4 && o.Candidates == 4 }},
		{"candidates beats best of", map[string]string{"SIA_BEST_OF_N": "4"}, []string{"--candidates", "2"}, "", func(o *runOptions) bool { return o.Candidates == 2 }},
		{"bad best of", map[string]string{"SIA_BEST_OF_N": "0"}, nil, "positive integer", nil},
		{"base on best", map[string]string{"SIA_BASE_ON_BEST": "true", "SIA_REJECT_REGRESSION": "1"}, nil, "", func(*runOptions) bool { return true }},
		{"base on best off", map[string]string{"SIA_BASE_ON_BEST": "false"}, nil, "keep-best", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseSIA(t, tc.env, append(append([]string{}, task...), tc.args...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

// TestSIARefusals: every SIA setting without a meaning here fails with one
// line that names it and says what to do.
func TestSIARefusals(t *testing.T) {
	for _, s := range siaSettings {
		if s.apply != nil {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			_, err := parseSIA(t, map[string]string{s.name: "1"}, "--task", "demo")
			if err == nil || !strings.HasPrefix(err.Error(), s.name) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line starting with %s", err, s.name)
			}
		})
	}
	for _, f := range []struct{ args []string }{
		{[]string{"--knowledge-graph"}}, {[]string{"--training_sandbox", "modal"}}, {[]string{"--web-port", "8000"}},
		{[]string{"--web-host", "0.0.0.0"}}, {[]string{"--backend", "claude"}}, {[]string{"--meta-model", "haiku"}},
		{[]string{"--task-model", "claude-haiku-4-5"}},
	} {
		t.Run(f.args[0], func(t *testing.T) {
			_, err := parseSIA(t, nil, append([]string{"--task", "demo"}, f.args...)...)
			name := strings.ReplaceAll(strings.TrimPrefix(f.args[0], "--"), "_", "-")
			if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), "_", "-"), name) {
				t.Fatalf("err %v, want a line naming %s", err, f.args[0])
			}
		})
	}
}

// TestSIAProfileSeedsTheRun runs `sia` as a SIA user would: SIA's flag
// spellings, a profiles folder named by SIA_PROFILES_DIR, and a target
// profile whose agent_reference is a harness file beside it. Generation 1
// is that harness; SIA_EARLY_STOP_THRESHOLD=0 ends the run after it.
func TestSIAProfileSeedsTheRun(t *testing.T) {
	profiles := t.TempDir()
	if err := os.WriteFile(filepath.Join(profiles, "letters.star"), []byte(letterHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := `{"profile_id": "seeded", "name": "embedded model, my seed", "model": "tinylm", "provider_id": "embedded",
  "agent_reference": {"source": "./letters.star"}}`
	if err := os.WriteFile(filepath.Join(profiles, "seeded.json"), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	env := map[string]string{"SIA_CACHE_DIR": t.TempDir(), "SIA_PROFILES_DIR": profiles, "SIA_EARLY_STOP_THRESHOLD": "0"}
	_, stderr, exit := runCLI(t, env, "--task", "demo", "--max_gen", "3", "--run_id", "4", "--runs-dir", runs,
		"--target-agent-profile", "seeded", "--meta-agent-profile", "builtin", "--focus", "harness", "--no-web", "--sandbox", "none")
	if exit != 0 {
		t.Fatalf("exit %d: %s", exit, stderr)
	}
	if !strings.Contains(stderr, "letters.star is the Meta-Agent's seed harness") {
		t.Errorf("stderr does not report the seed: %s", stderr)
	}
	got, err := os.ReadFile(filepath.Join(runs, "run_4", "gen_1", "harness.star"))
	if err != nil || string(got) != letterHarness {
		t.Fatalf("gen 1 harness %q (%v), want the profile's reference", got, err)
	}
	var fb agent.Decision
	b, _ := os.ReadFile(filepath.Join(runs, "run_4", "gen_1", "feedback.json"))
	if err := json.Unmarshal(b, &fb); err != nil || fb.Action != agent.ActionStop || !strings.Contains(fb.Rationale, "SIA_EARLY_STOP_THRESHOLD") {
		t.Errorf("gen 1 feedback %+v (%v), want an early stop", fb, err)
	}
	// A stop leaves no generation 2 folder (the builtin agent writes no
	// notes there).
	if _, err := os.Stat(filepath.Join(runs, "run_4", "gen_2")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("gen_2/ after the early stop: %v", err)
	}
}
