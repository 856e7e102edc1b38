package backend

import (
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/profile"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/train/command"
)

func TestTrainerFor(t *testing.T) {
	for _, tc := range []struct {
		flag     Trainer
		embedded bool
		want     Trainer
		errPart  string
	}{
		{"", true, TrainerEmbedded, ""},
		{TrainerAuto, true, TrainerEmbedded, ""},
		{TrainerAuto, false, TrainerNone, ""},
		{TrainerNone, true, TrainerNone, ""},
		{TrainerNone, false, TrainerNone, ""},
		{TrainerEmbedded, true, TrainerEmbedded, ""},
		{TrainerEmbedded, false, "", "--trainer embedded trains the embedded target only"},
		{TrainerCommand, false, TrainerCommand, ""},
		{TrainerCommand, true, "", "--trainer command is for remote targets"},
		{TrainerTinker, false, TrainerTinker, ""},
		{TrainerTinker, true, "", "--trainer tinker is for remote targets"},
		{"gpu", false, "", `--trainer "gpu": want auto, none, embedded, command or tinker`},
	} {
		got, err := trainerFor(tc.flag, tc.embedded)
		if tc.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("trainerFor(%q, embedded=%v) = %q, %v; want error %q", tc.flag, tc.embedded, got, err, tc.errPart)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("trainerFor(%q, embedded=%v) = %q, %v; want %q", tc.flag, tc.embedded, got, err, tc.want)
		}
	}
}

func TestAdapterServerFor(t *testing.T) {
	plain, vllmProv := &profile.Provider{}, &profile.Provider{VLLM: true}
	for _, tc := range []struct {
		name    string
		prov    *profile.Provider
		server  AdapterServer
		trainer Trainer
		want    adapterServer
	}{
		{"no trainer: the target", plain, AdapterServerAuto, TrainerNone, servedByTarget},
		{"command trainer without vLLM: the target", plain, AdapterServerAuto, TrainerCommand, servedByTarget},
		{"tinker: its sampler", plain, AdapterServerAuto, TrainerTinker, servedByTinker},
		{"a vllm provider serves them", vllmProv, AdapterServerAuto, TrainerTinker, servedByVLLM},
		{"--adapter-server vllm wins over tinker", plain, AdapterServerVLLM, TrainerTinker, servedByVLLM},
		{"--adapter-server vllm with the command trainer", plain, AdapterServerVLLM, TrainerCommand, servedByVLLM},
	} {
		if got := adapterServerFor(&Options{AdapterServer: tc.server}, tc.prov, tc.trainer); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	if _, err := ParseTrainer("tinker"); err != nil {
		t.Error(err)
	}
	if _, err := ParseTrainer("gpu"); err == nil {
		t.Error("--trainer gpu parsed")
	}
	if _, err := ParseAdapterServer("vllm"); err != nil {
		t.Error(err)
	}
	if _, err := ParseAdapterServer("sglang"); err == nil || !strings.Contains(err.Error(), "want auto or vllm") {
		t.Errorf("--adapter-server sglang: %v", err)
	}
}

// demoOptions are Options for the bundled demo task with no user files,
// no API keys and no network.
func demoOptions(t *testing.T) Options {
	t.Helper()
	reg, err := bundled.Registry()
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open("demo", task.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return Options{Task: tk, Data: data, Mode: agent.ModeAuto, MetaProfile: "builtin", TargetProfile: "embedded",
		Trainer: TrainerAuto, LoRARank: 8, AdapterServer: AdapterServerAuto, RunID: "t",
		ConfigDir: dir, ProfilesDir: dir + "/profiles", ProvidersDir: dir + "/providers", ModelCacheDir: dir + "/models",
		Getenv: func(string) string { return "" }}
}

func TestBuild(t *testing.T) {
	for _, tc := range []struct {
		name        string
		change      func(*Options)
		errPart     string
		wantTrainer string // "", "embedded", "command"
	}{
		{name: "embedded target trains itself", change: func(*Options) {}, wantTrainer: "embedded"},
		{name: "embedded, --trainer none", change: func(o *Options) { o.Trainer = TrainerNone }},
		{name: "weights mode needs a trainer", change: func(o *Options) { o.Trainer, o.Mode = TrainerNone, agent.ModeWeights },
			errPart: `--mode weights needs a trainer, and target profile "embedded" has none (use --trainer, or --mode auto)`},
		{name: "embedded, --trainer tinker", change: func(o *Options) { o.Trainer = TrainerTinker },
			errPart: "--trainer tinker is for remote targets"},
		{name: "remote target, auto: no trainer", change: func(o *Options) { o.TargetProfile = "ollama" }},
		{name: "remote target in weights mode", change: func(o *Options) { o.TargetProfile, o.Mode = "ollama", agent.ModeWeights },
			errPart: `target profile "ollama" has none`},
		{name: "remote, --trainer embedded", change: func(o *Options) { o.TargetProfile, o.Trainer = "ollama", TrainerEmbedded },
			errPart: "--trainer embedded trains the embedded target only"},
		{name: "command trainer needs its command", change: func(o *Options) { o.TargetProfile, o.Trainer = "vllm", TrainerCommand },
			errPart: "--trainer command needs --trainer-command"},
		{name: "command trainer, vLLM serves the adapters", change: func(o *Options) {
			o.TargetProfile, o.Trainer, o.TrainerCommand = "vllm", TrainerCommand, "true {data} {config} {out}"
		}, wantTrainer: "command"},
		{name: "tinker needs its key", change: func(o *Options) { o.TargetProfile, o.Trainer = "ollama", TrainerTinker },
			errPart: "--trainer tinker needs TINKER_API_KEY"},
		{name: "unknown target profile", change: func(o *Options) { o.TargetProfile = "nope" }, errPart: "--target-profile"},
		{name: "unknown meta profile", change: func(o *Options) { o.MetaProfile = "nope" }, errPart: "--meta-profile"},
		{name: "a missing --harness file", change: func(o *Options) { o.Harness = "/nonexistent/h.star" }, errPart: "--harness"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := demoOptions(t)
			tc.change(&o)
			s, err := Build(t.Context(), o)
			if tc.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errPart) {
					t.Fatalf("err %v, want %q", err, tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			switch tr := s.trainer.(type) {
			case nil:
				if tc.wantTrainer != "" {
					t.Fatalf("no trainer, want %s", tc.wantTrainer)
				}
			case *Embedded:
				if tc.wantTrainer != "embedded" {
					t.Fatalf("embedded trainer, want %q", tc.wantTrainer)
				}
			case *command.Trainer:
				if tc.wantTrainer != "command" {
					t.Fatalf("command trainer, want %q", tc.wantTrainer)
				}
			default:
				t.Fatalf("trainer %T", tr)
			}
			d := s.Deps(loop.Deps{})
			if d.Policy == nil || d.Runtime == nil || d.Gateway == nil || !strings.HasPrefix(d.GatewayURL, "http://127.0.0.1:") {
				t.Fatalf("deps %+v", d)
			}
			if _, ok := d.Meta.(builtin.Meta); !ok {
				t.Errorf("meta %T, want the builtin agent", d.Meta)
			}
			if s.ScratchDir() != "" {
				t.Errorf("a starlark task has scratch dir %q", s.ScratchDir())
			}
		})
	}
}
