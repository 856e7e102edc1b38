package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/builtin"
	"github.com/sia-agent/sia/agent/llmagent"
	"github.com/sia-agent/sia/budget"
	"github.com/sia-agent/sia/gateway"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/isolate"
	"github.com/sia-agent/sia/harness/python"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/profile"
	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/train/command"
	"github.com/sia-agent/sia/train/tinker"
	"github.com/sia-agent/sia/vllm"
)

// backends are the loop's collaborators built from the run's profiles.
type backends struct {
	runtime    harness.Runtime
	meta       agent.Meta
	feedback   agent.Feedback
	policy     loop.PolicyFactory
	trainer    train.Trainer
	gateway    *gateway.Gateway
	gatewayURL string
	budget     *budget.Budget
	closers    []func()
}

func (b *backends) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// buildBackends resolves profiles into models, agents and a trainer. Every
// configuration error (unknown profile, missing API key) surfaces here,
// before any work.
func (a *app) buildBackends(ctx context.Context, o *runOptions, t *task.Task, data *task.Dataset) (_ *backends, err error) {
	be := &backends{}
	defer func() {
		if err != nil {
			be.close()
		}
	}()
	if be.runtime, err = newRuntime(t.Spec.Runtime); err != nil {
		return nil, err
	}
	if py, ok := be.runtime.(*python.Runtime); ok {
		if py.Sandbox, err = a.sandbox(ctx, o.Sandbox); err != nil {
			return nil, fmt.Errorf("python harnesses run sandboxed: %w", err)
		}
	}
	prices, err := budget.LoadPrices(a.env.ConfigDir()) // bundled, plus the user's prices.json if any
	if err != nil {
		return nil, err
	}
	if be.budget, err = budget.New(budget.Limits{USD: o.BudgetUSD, Tokens: o.BudgetTokens}, prices); err != nil {
		return nil, err
	}
	siaProfiles, siaProviders := siaProfileDirs(a.env)
	profiles := &profile.Loader{UserDir: a.env.ConfigDir(), ProfilesDir: siaProfiles, ProvidersDir: siaProviders}
	loader := profile.WithLoader(profiles)
	notify := profile.WithNotify(func(line string) { fmt.Fprintf(a.streams.Err, "sia: %s\n", line) })

	// Meta- and Feedback-Agents.
	metaModel, mp, err := profile.OpenMeta(ctx, o.MetaProfile, a.env.Get, loader, notify)
	if err != nil {
		return nil, fmt.Errorf("--meta-profile: %w", err)
	}
	if metaModel == nil {
		be.meta, be.feedback = builtin.Meta{}, builtin.Feedback{}
	} else {
		priced := mp.ModelCanonicalName // SIA's vendor id, for the price table
		if prov, perr := profiles.MetaProvider(mp); priced == "" && perr == nil {
			priced = profile.ModelFor(mp.AgentImpl, prov, mp.Model)
		}
		if err := be.budget.Check(priced); err != nil {
			return nil, fmt.Errorf("--budget-usd: %w", err)
		}
		cfg := llmagent.Config{Model: be.budget.Wrap(metaModel, priced), OnEvent: a.agentEvents(), MaxTurns: o.AgentMaxTurns}
		m, err := llmagent.NewMeta(cfg)
		if err != nil {
			return nil, err
		}
		f, err := llmagent.NewFeedback(cfg)
		if err != nil {
			return nil, err
		}
		be.meta = m
		be.feedback = agent.Fallback{Primary: f, Secondary: builtin.Feedback{}, OnFallback: func(err error) {
			fmt.Fprintf(a.streams.Err, "sia: the feedback agent did not decide (%v); the builtin agent decides this generation\n", err)
		}}
	}

	if o.EarlyStop != nil {
		be.feedback = earlyStop{Feedback: be.feedback, threshold: *o.EarlyStop}
	}
	if o.Harness == "" {
		// A target profile's agent_reference seeds the Meta-Agent.
		tp, err := profiles.Target(o.TargetProfile)
		if err != nil {
			return nil, fmt.Errorf("--target-profile: %w", err)
		}
		seed, line, ok, err := referenceSeed(tp, t)
		if err != nil {
			return nil, err
		}
		if ok {
			fmt.Fprintf(a.streams.Err, "sia: %s\n", line)
			be.meta = seededMeta{Meta: be.meta, seed: seed}
		}
	}
	if o.Harness != "" {
		src, err := harness.ReadSource(o.Harness)
		if err != nil {
			return nil, fmt.Errorf("--harness: %w", err)
		}
		given := builtin.Given{Source: src, From: o.Harness}
		if err := given.Fits(t.Spec.Name, t.Spec.Runtime); err != nil {
			return nil, err
		}
		be.meta = given
	}

	// The task model and its trainer.
	target, err := profile.Open(ctx, o.TargetProfile, a.env.Get, loader, notify)
	switch {
	case errors.Is(err, profile.ErrEmbedded):
		et := newEmbeddedTarget(t, data, a.modelCacheDir(), a.streams.Err)
		et.trainCfg.DPONLL = o.DPONLL
		be.policy = et.policy
		switch o.Trainer {
		case "auto", "embedded":
			be.trainer = et
		case "none":
		default:
			return nil, fmt.Errorf("--trainer %s is for remote targets; the embedded target trains with --trainer embedded", o.Trainer)
		}
	case err != nil:
		return nil, fmt.Errorf("--target-profile: %w", err)
	default:
		if err := a.remoteTarget(ctx, be, o, target, profiles); err != nil {
			return nil, err
		}
	}

	// The gateway serves the task model to out-of-process harnesses.
	gcfg := gateway.Config{Run: o.RunID}
	if o.LogLevel <= slog.LevelDebug {
		gcfg.Logger = slog.New(slog.NewTextHandler(a.streams.Err, &slog.HandlerOptions{Level: o.LogLevel}))
	}
	be.gateway = gateway.New(gcfg)
	gctx, cancel := context.WithCancel(ctx)
	be.closers = append(be.closers, cancel)
	if be.gatewayURL, err = be.gateway.Serve(gctx, "127.0.0.1:0"); err != nil {
		return nil, err
	}
	return be, nil
}

// remoteTarget wires a task model served elsewhere, and its trainer.
func (a *app) remoteTarget(ctx context.Context, be *backends, o *runOptions, target llm.Model, profiles *profile.Loader) error {
	loader := profile.WithLoader(profiles)
	tp, err := profiles.Target(o.TargetProfile)
	if err != nil {
		return err
	}
	prov, err := profiles.TargetProvider(tp)
	if err != nil {
		return err
	}
	model := profile.ModelFor("", prov, tp.Model)
	priced := model
	if tp.ModelCanonicalName != "" {
		priced = tp.ModelCanonicalName // SIA's vendor id, for the price table
	}
	if err := be.budget.Check(priced); err != nil {
		return fmt.Errorf("--budget-usd: %w", err)
	}
	wrapped := be.budget.Wrap(target, priced)
	be.policy = func(context.Context, string, int) (llm.Model, error) { return wrapped, nil }
	switch o.Trainer {
	case "auto", "none":
		return nil
	case "embedded":
		return errors.New("--trainer embedded trains the embedded target only; use --trainer command or tinker")
	case "command":
		if o.TrainerCommand == "" {
			return errors.New("--trainer command needs --trainer-command (see docs/trainers/)")
		}
		tr, err := command.New(command.Config{Command: o.TrainerCommand, BaseModel: model, Rank: o.LoRARank, Hyper: command.Hyper{DPONLL: o.DPONLL},
			OnLog: func(line string) { fmt.Fprintf(a.streams.Err, "trainer: %s\n", line) }})
		if err != nil {
			return err
		}
		be.trainer = tr
	case "tinker":
		key := a.env.Get("TINKER_API_KEY")
		if key == "" {
			return errors.New("--trainer tinker needs TINKER_API_KEY in the environment")
		}
		tinkerURL := a.env.Get("TINKER_BASE_URL")
		tr, err := tinker.New(ctx, tinker.Config{BaseURL: tinkerURL, APIKey: key, BaseModel: model, Rank: o.LoRARank,
			OnEvent: func(e tinker.Event) {
				switch e.Kind {
				case "billing_pause", "rate_limited", "config":
					fmt.Fprintf(a.streams.Err, "sia: tinker: %s\n", e.Message)
				}
			}})
		if err != nil {
			return err
		}
		be.trainer = tr
		if !prov.VLLM && o.AdapterServer != "vllm" {
			// Trained versions are sampled through Tinker's OpenAI-compatible
			// endpoint under their sampler checkpoint path.
			sampler := &profile.Provider{ProviderID: "tinker-sampler", Name: "Tinker sampling", ClientKind: "openai",
				BaseURL: tinker.OAIBaseURL(tinkerURL), APIKeyEnv: "TINKER_API_KEY"}
			be.policy = func(ctx context.Context, dir string, version int) (llm.Model, error) {
				if version == 0 || dir == "" {
					return wrapped, nil
				}
				var st tinker.State
				b, err := os.ReadFile(filepath.Join(dir, tinker.StateFile))
				if err == nil {
					err = json.Unmarshal(b, &st)
				}
				if err != nil || st.SamplerPath == "" {
					return nil, fmt.Errorf("adapter v%d: no Tinker sampler path in %s (%v)", version, tinker.StateFile, err)
				}
				m, err := profile.NewModel(ctx, sampler, st.SamplerPath, a.env.Get, loader)
				if err != nil {
					return nil, err
				}
				return be.budget.Wrap(m, priced), nil
			}
		}
	}
	if prov.VLLM || o.AdapterServer == "vllm" {
		// New adapters are hot-loaded into the vLLM server under versioned
		// names and served from there.
		base := strings.TrimSuffix(strings.TrimSuffix(prov.BaseURL, "/"), "/v1")
		mgr, err := vllm.New(vllm.Config{BaseURL: base, APIKey: a.env.Get(prov.APIKeyEnv), BaseModel: model, MaxRank: o.LoRARank,
			OnEvent: func(e vllm.Event) { fmt.Fprintf(a.streams.Err, "sia: vllm adapter %s %s\n", e.Kind, e.Name) }})
		if err != nil {
			return err
		}
		be.policy = mgr.Policy(model, func(name string) (llm.Model, error) {
			m, err := profile.NewModel(ctx, prov, name, a.env.Get, loader)
			if err != nil {
				return nil, err
			}
			return be.budget.Wrap(m, priced), nil
		})
	}
	return nil
}

// agentEvents prints one line per LLM-agent tool call.
func (a *app) agentEvents() func(llmagent.Event) {
	return func(e llmagent.Event) {
		switch e.Kind {
		case llmagent.EventToolCall:
			if e.Call != nil {
				fmt.Fprintf(a.streams.Err, "sia: %s agent turn %d: %s\n", e.Role, e.Turn, e.Call.Name)
			}
		case llmagent.EventLimit:
			fmt.Fprintf(a.streams.Err, "sia: %s agent: %s\n", e.Role, e.Text)
		}
	}
}

// modelCacheDir holds pretrained embedded base models.
func (a *app) modelCacheDir() string { return filepath.Join(a.env.CacheDir(), "models") }

// sandbox builds the isolation --sandbox asks for. Without bubblewrap a
// python harness does not run unless the user said --sandbox none.
func (a *app) sandbox(ctx context.Context, flag string) (*sandbox.Sandbox, error) {
	mode, err := sandbox.ParseMode(flag)
	if err != nil {
		return nil, fmt.Errorf("--sandbox: %w", err)
	}
	sb, err := sandbox.New(ctx, mode)
	if err != nil && errors.Is(err, sandbox.ErrUnavailable) && mode == sandbox.ModeBwrap {
		return nil, fmt.Errorf("%w; install bubblewrap, or pass --sandbox none to run without isolation (the run is then marked unsandboxed)", err)
	}
	if err == nil && mode == sandbox.ModeNone {
		fmt.Fprintln(a.streams.Err, "sia: --sandbox none: python code runs WITHOUT isolation; it can read anything this user can (sia show marks the run unsandboxed)")
	}
	return sb, err
}

// newRuntime returns the harness runtime for a task.
func newRuntime(kind string) (harness.Runtime, error) {
	switch kind {
	case "starlark":
		// In a worker process (this binary, restarted as a harness worker):
		// a harness that exhausts memory fails its items, not the run.
		return &isolate.Runtime{}, nil
	case "python":
		return &python.Runtime{}, nil
	}
	return nil, fmt.Errorf("unknown harness runtime %q (want starlark or python)", kind)
}

// registry returns the bundled tasks.
func registry() (*task.Registry, error) { return bundled.Registry() }
