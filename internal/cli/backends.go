package cli

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/sia-agent/sia/agent/llmagent"
	"github.com/sia-agent/sia/backend"
	"github.com/sia-agent/sia/budget"
	"github.com/sia-agent/sia/sandbox"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled"
)

// backendOptions turns `sia run`'s validated flags and settings into what
// package backend builds a run's backends from. scratchDir is where python
// harnesses make their working folders.
func (a *app) backendOptions(o *runOptions, t *task.Task, data *task.Dataset, scratchDir string) backend.Options {
	siaProfiles, siaProviders := siaProfileDirs(a.env)
	bo := backend.Options{
		Task: t, Data: data, Mode: o.Mode,
		MetaProfile: o.MetaProfile, TargetProfile: o.TargetProfile, Harness: o.Harness,
		AgentMaxTurns: o.AgentMaxTurns, EarlyStop: o.EarlyStop,
		Trainer: backend.Trainer(o.Trainer), TrainerCommand: o.TrainerCommand, LoRARank: o.LoRARank,
		AdapterServer: backend.AdapterServer(o.AdapterServer), DPONLL: o.DPONLL,
		Sandbox: sandbox.Mode(o.Sandbox), ScratchDir: scratchDir,
		Budget: budget.Limits{USD: o.BudgetUSD, Tokens: o.BudgetTokens}, RunID: o.RunID,
		ConfigDir: a.env.ConfigDir(), ProfilesDir: siaProfiles, ProvidersDir: siaProviders,
		ModelCacheDir: a.modelCacheDir(), Getenv: a.env.Get,
		Notify:        a.notify,
		TrainerOutput: func(line string) { fmt.Fprintf(a.streams.Err, "trainer: %s\n", line) },
		AgentEvents:   a.agentEvents,
	}
	if o.LogLevel <= slog.LevelDebug {
		bo.GatewayLog = slog.New(slog.NewTextHandler(a.streams.Err, &slog.HandlerOptions{Level: o.LogLevel}))
	}
	return bo
}

// notify prints one of sia's lines for the user.
func (a *app) notify(line string) { fmt.Fprintf(a.streams.Err, "sia: %s\n", line) }

// agentEvents prints one line per LLM-agent tool call.
func (a *app) agentEvents(e llmagent.Event) {
	switch e.Kind {
	case llmagent.EventToolCall:
		if e.Call != nil {
			fmt.Fprintf(a.streams.Err, "sia: %s agent turn %d: %s\n", e.Role, e.Turn, e.Call.Name)
		}
	case llmagent.EventLimit:
		fmt.Fprintf(a.streams.Err, "sia: %s agent: %s\n", e.Role, e.Text)
	}
}

// modelCacheDir holds pretrained embedded base models.
func (a *app) modelCacheDir() string { return filepath.Join(a.env.CacheDir(), "models") }

// registry returns the bundled tasks.
func registry() (*task.Registry, error) { return bundled.Registry() }
