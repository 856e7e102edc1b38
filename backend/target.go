package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sia-agent/sia/budget"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/loop"
	"github.com/sia-agent/sia/profile"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/train/command"
	trainembedded "github.com/sia-agent/sia/train/embedded"
	"github.com/sia-agent/sia/train/tinker"
	"github.com/sia-agent/sia/vllm"
)

// target is the task model (a policy per adapter version) and its trainer.
type target struct {
	policy  loop.PolicyFactory
	trainer train.Trainer // nil: no weights lever
}

// openTarget opens --target-profile: the embedded tinylm, or a model
// served elsewhere.
func openTarget(ctx context.Context, o *Options, profiles *profile.Loader, popts []profile.Option, spend *budget.Budget) (target, error) {
	model, err := profile.Open(ctx, o.TargetProfile, o.getenv, popts...)
	switch {
	case errors.Is(err, profile.ErrEmbedded):
		return embeddedTarget(o)
	case err != nil:
		return target{}, fmt.Errorf("--target-profile: %w", err)
	}
	return remoteTarget(ctx, o, model, profiles, spend)
}

// trainerFor is the one reading of --trainer: the trainer a target gets.
func trainerFor(flag Trainer, embedded bool) (Trainer, error) {
	switch flag {
	case "", TrainerAuto:
		if embedded {
			return TrainerEmbedded, nil
		}
		return TrainerNone, nil
	case TrainerNone:
		return TrainerNone, nil
	case TrainerEmbedded:
		if !embedded {
			return "", errors.New("--trainer embedded trains the embedded target only; use --trainer command or tinker")
		}
		return TrainerEmbedded, nil
	case TrainerCommand, TrainerTinker:
		if embedded {
			return "", fmt.Errorf("--trainer %s is for remote targets; the embedded target trains with --trainer embedded", flag)
		}
		return flag, nil
	}
	_, err := ParseTrainer(string(flag))
	return "", err
}

// adapterServer is the one reading of --adapter-server: who serves a
// remote target's trained adapters.
type adapterServer int

const (
	servedByTarget adapterServer = iota // none: the target serves the base only
	servedByVLLM                        // hot-loaded into the target's vLLM server
	servedByTinker                      // Tinker's sampler, under each version's sampler path
)

func adapterServerFor(o *Options, prov *profile.Provider, trainer Trainer) adapterServer {
	switch {
	case prov.VLLM || o.AdapterServer == AdapterServerVLLM:
		return servedByVLLM
	case trainer == TrainerTinker:
		return servedByTinker
	}
	return servedByTarget
}

// embeddedTarget is the embedded tinylm, trained in process.
func embeddedTarget(o *Options) (target, error) {
	kind, err := trainerFor(o.Trainer, true)
	if err != nil {
		return target{}, err
	}
	e := NewEmbedded(o.Task, o.Data, o.ModelCacheDir, o.Notify, trainembedded.Config{DPONLL: o.DPONLL})
	t := target{policy: e.Policy}
	if kind == TrainerEmbedded {
		t.trainer = e
	}
	return t, nil
}

// remoteTarget is a task model served elsewhere, its trainer, and who
// serves its trained adapters.
func remoteTarget(ctx context.Context, o *Options, model llm.Model, profiles *profile.Loader, spend *budget.Budget) (target, error) {
	tp, err := profiles.Target(o.TargetProfile)
	if err != nil {
		return target{}, err
	}
	prov, err := profiles.TargetProvider(tp)
	if err != nil {
		return target{}, err
	}
	name := profile.ModelFor("", prov, tp.Model)
	priced := name
	if tp.ModelCanonicalName != "" {
		priced = tp.ModelCanonicalName // SIA's vendor id, for the price table
	}
	if err := spend.Check(priced); err != nil {
		return target{}, fmt.Errorf("--budget-usd: %w", err)
	}
	kind, err := trainerFor(o.Trainer, false)
	if err != nil {
		return target{}, err
	}
	var t target
	switch kind {
	case TrainerCommand:
		t.trainer, err = commandTrainer(o, name)
	case TrainerTinker:
		t.trainer, err = tinkerTrainer(ctx, o, name)
	}
	if err != nil {
		return target{}, err
	}
	price := func(m llm.Model) llm.Model { return spend.Wrap(m, priced) }
	base := price(model)
	// Each adapter version's client is opened quietly: the target's own
	// open already said what there was to say about its key.
	quiet := profile.WithLoader(profiles)
	switch adapterServerFor(o, prov, kind) {
	case servedByVLLM:
		t.policy, err = vllmPolicy(ctx, o, prov, name, quiet, price)
	case servedByTinker:
		t.policy = tinkerPolicy(o, quiet, base, price)
	default:
		t.policy = func(context.Context, string, int) (llm.Model, error) { return base, nil }
	}
	if err != nil {
		return target{}, err
	}
	return t, nil
}

// commandTrainer runs --trainer-command for each weight update.
func commandTrainer(o *Options, baseModel string) (train.Trainer, error) {
	if o.TrainerCommand == "" {
		return nil, errors.New("--trainer command needs --trainer-command (see docs/trainers/)")
	}
	return command.New(command.Config{Command: o.TrainerCommand, BaseModel: baseModel, Rank: o.LoRARank,
		Hyper: command.Hyper{DPONLL: o.DPONLL}, OnLog: o.TrainerOutput})
}

// tinkerTrainer trains on the Tinker service (TINKER_API_KEY, TINKER_BASE_URL).
func tinkerTrainer(ctx context.Context, o *Options, baseModel string) (train.Trainer, error) {
	key := o.getenv("TINKER_API_KEY")
	if key == "" {
		return nil, errors.New("--trainer tinker needs TINKER_API_KEY in the environment")
	}
	return tinker.New(ctx, tinker.Config{BaseURL: o.getenv("TINKER_BASE_URL"), APIKey: key, BaseModel: baseModel, Rank: o.LoRARank,
		OnEvent: func(e tinker.Event) {
			switch e.Kind {
			case "billing_pause", "rate_limited", "config":
				o.notify("tinker: %s", e.Message)
			}
		}})
}

// tinkerPolicy samples trained versions through Tinker's OpenAI-compatible
// endpoint under their sampler checkpoint path; version 0 is the target.
func tinkerPolicy(o *Options, loader profile.Option, base llm.Model, price func(llm.Model) llm.Model) loop.PolicyFactory {
	sampler := &profile.Provider{ProviderID: "tinker-sampler", Name: "Tinker sampling", ClientKind: "openai",
		BaseURL: tinker.OAIBaseURL(o.getenv("TINKER_BASE_URL")), APIKeyEnv: "TINKER_API_KEY"}
	return func(ctx context.Context, dir string, version int) (llm.Model, error) {
		if version == 0 || dir == "" {
			return base, nil
		}
		var st tinker.State
		b, err := os.ReadFile(filepath.Join(dir, tinker.StateFile))
		if err == nil {
			err = json.Unmarshal(b, &st)
		}
		if err != nil || st.SamplerPath == "" {
			return nil, fmt.Errorf("adapter v%d: no Tinker sampler path in %s (%v)", version, tinker.StateFile, err)
		}
		m, err := profile.NewModel(ctx, sampler, st.SamplerPath, o.getenv, loader)
		if err != nil {
			return nil, err
		}
		return price(m), nil
	}
}

// vllmPolicy hot-loads new adapters into the target's vLLM server under
// versioned names and serves them from there.
func vllmPolicy(ctx context.Context, o *Options, prov *profile.Provider, baseModel string, loader profile.Option, price func(llm.Model) llm.Model) (loop.PolicyFactory, error) {
	server := strings.TrimSuffix(strings.TrimSuffix(prov.BaseURL, "/"), "/v1")
	mgr, err := vllm.New(vllm.Config{BaseURL: server, APIKey: o.getenv(prov.APIKeyEnv), BaseModel: baseModel, MaxRank: o.LoRARank,
		OnEvent: func(e vllm.Event) { o.notify("vllm adapter %s %s", e.Kind, e.Name) }})
	if err != nil {
		return nil, err
	}
	return mgr.Policy(baseModel, func(name string) (llm.Model, error) {
		m, err := profile.NewModel(ctx, prov, name, o.getenv, loader)
		if err != nil {
			return nil, err
		}
		return price(m), nil
	}), nil
}
