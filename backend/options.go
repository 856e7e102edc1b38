package backend

import (
	"fmt"
	"log/slog"

	"github.com/sia-agent/sia/agent/llmagent"
	"github.com/sia-agent/sia/budget"
	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
)

// Trainer is a --trainer value: which backend trains the weights lever.
type Trainer string

// The --trainer values.
const (
	TrainerAuto     Trainer = "auto"     // embedded for the embedded target, else none
	TrainerNone     Trainer = "none"     // no weights lever
	TrainerEmbedded Trainer = "embedded" // LoRA on the embedded tinylm
	TrainerCommand  Trainer = "command"  // an external command (TRL, verl) returning a PEFT adapter
	TrainerTinker   Trainer = "tinker"   // the Tinker training service
)

// ParseTrainer reads a --trainer value.
func ParseTrainer(s string) (Trainer, error) {
	switch t := Trainer(s); t {
	case TrainerAuto, TrainerNone, TrainerEmbedded, TrainerCommand, TrainerTinker:
		return t, nil
	}
	return "", fmt.Errorf("--trainer %q: want auto, none, embedded, command or tinker", s)
}

// AdapterServer is an --adapter-server value: where trained adapters are
// served from.
type AdapterServer string

// The --adapter-server values.
const (
	AdapterServerAuto AdapterServer = "auto" // vLLM when the target's provider is vllm, else the trainer's own
	AdapterServerVLLM AdapterServer = "vllm" // hot-load into the target's vLLM server
)

// ParseAdapterServer reads an --adapter-server value.
func ParseAdapterServer(s string) (AdapterServer, error) {
	switch a := AdapterServer(s); a {
	case AdapterServerAuto, AdapterServerVLLM:
		return a, nil
	}
	return "", fmt.Errorf("--adapter-server %q: want auto or vllm", s)
}

// Options is everything Build needs, as plain values: the task, the run's
// flags and settings, where files live, and where lines for the user go.
type Options struct {
	Task *task.Task
	Data *task.Dataset

	// Mode is --mode (harness, weights, auto): weights needs a trainer.
	Mode string
	// MetaProfile and TargetProfile are --meta-profile and
	// --target-profile: "builtin" / "embedded", or a profile name or path.
	MetaProfile   string
	TargetProfile string
	// Harness is --harness: gen 1's harness file instead of the
	// Meta-Agent's; "" lets the Meta-Agent write it.
	Harness string
	// AgentMaxTurns is the LLM agents' turn limit (SIA_MAX_TURNS; 0 = theirs).
	AgentMaxTurns int
	// EarlyStop stops the run once the incumbent's val score reaches it
	// (SIA_EARLY_STOP_THRESHOLD); nil never stops early.
	EarlyStop *float64

	// Trainer, TrainerCommand, LoRARank, AdapterServer and DPONLL are the
	// weights lever's flags.
	Trainer        Trainer
	TrainerCommand string
	LoRARank       int
	AdapterServer  AdapterServer
	DPONLL         float64

	// Sandbox isolates python harnesses (--sandbox).
	Sandbox sandbox.Mode
	// ScratchDir is where python harnesses make their working folders
	// ("" = the system's temp dir); the caller creates and removes it.
	ScratchDir string
	// Budget stops model calls at a spend limit (--budget-usd, --budget-tokens).
	Budget budget.Limits
	// RunID names the run to the gateway (tags naming another run are untagged).
	RunID string
	// GatewayLog receives one debug line per gateway call; nil discards.
	GatewayLog *slog.Logger

	// ConfigDir holds the user's profiles and prices.json (SIA_CONFIG_DIR);
	// ProfilesDir and ProvidersDir are SIA's folders, searched first.
	ConfigDir, ProfilesDir, ProvidersDir string
	// ModelCacheDir holds pretrained embedded base models.
	ModelCacheDir string
	// Getenv reads API keys and the TINKER_* settings.
	Getenv func(string) string

	// Notify receives sia's lines for the user (pretraining progress, the
	// trainer service's pauses, warnings); nil discards them.
	Notify func(line string)
	// TrainerOutput receives an external trainer command's output lines.
	TrainerOutput func(line string)
	// AgentEvents receives the LLM agents' events (tool calls, limits).
	AgentEvents func(llmagent.Event)
}

func (o *Options) notify(format string, args ...any) {
	if o.Notify != nil {
		o.Notify(fmt.Sprintf(format, args...))
	}
}

func (o *Options) getenv(name string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(name)
}
