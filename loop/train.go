package loop

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sia-agent/sia/adapter"
	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/rollout"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
)

// train rolls the incumbent out on train items and trains an adapter.
func (r *runner) train(ctx context.Context, gen int) error {
	start := time.Now()
	g := r.st.Gen(gen)
	version := 1
	for _, x := range r.st.Gens {
		if x.AdapterVersion >= version {
			version = x.AdapterVersion + 1
		}
	}
	// Until adapter_trained, a weights gen holds its parent's adapter.
	u, err := r.trainAdapter(ctx, gen, g.AdapterDir, g.AdapterVersion, version)
	if err != nil {
		return err
	}
	ev := runstore.Event{Type: runstore.EvAdapterTrained, Gen: gen, AdapterVersion: u.version,
		AdapterDir: u.dir, DurationS: since(start), Tokens: u.tokens, CostUSD: u.cost}
	if u.refused != "" {
		ev.Reason = u.refused
		r.progress(Progress{Kind: "notice", Gen: gen, Text: u.refused})
	}
	return r.emit(ev)
}

// trained is the outcome of a weight update: the adapter the generation
// serves, and why the update was refused, if it was.
type trained struct {
	dir     string
	version int
	refused string
	// tokens and cost are the train rollouts' usage, over all rounds.
	tokens int
	cost   float64
}

// trainAdapter makes gen's adapter in TrainRounds on-policy rounds: each
// rolls the harness out on train items over the adapter so far (the parent
// for the first), or reuses the rollouts a previous attempt wrote, and
// trains from it. It returns the final adapter's run-relative folder.
// Everything is seeded, so running it again gives the same adapter.
//
// A round whose rollouts give the algorithm nothing to train
// (train.ErrNothingToTrain) ends the update: the adapter so far — the
// parent's, when it is the first round — is the generation's, no new
// version is made, and the refusal says why.
func (r *runner) trainAdapter(ctx context.Context, gen int, parentDir string, parentVersion, version int) (trained, error) {
	g := r.st.Gen(gen)
	if r.d.Trainer == nil {
		return trained{}, fmt.Errorf("no trainer is available")
	}
	rounds := max(1, r.cfg.TrainRounds)
	curDir, curVersion := parentDir, parentVersion
	tokens, cost := 0, 0.0
	for round := 1; round <= rounds; round++ {
		last := round == rounds
		trajs, err := r.trainRollouts(ctx, gen, runstore.GenFile(gen, runstore.TrainRolloutsFile(round)), round, curDir, curVersion)
		if err != nil {
			return trained{}, err
		}
		for i := range trajs {
			u := trajs[i].Usage()
			tokens, cost = tokens+u.PromptTokens+u.CompletionTokens, cost+u.CostUSD
		}
		outRel := runstore.GenFile(gen, runstore.AdapterDir)
		if !last {
			outRel = runstore.GenFile(gen, runstore.RoundAdapterDir(round))
		}
		metrics := runstore.GenFile(gen, runstore.TrainLog(round, rounds))
		parent := ""
		if curDir != "" {
			parent = r.d.Store.Path(curDir)
		}
		out := r.d.Store.Path(outRel)
		_ = os.RemoveAll(out) // a half-written adapter from a killed run
		r.progress(Progress{Kind: "step", Gen: gen, Step: "update", Text: fmt.Sprintf("%s, round %d/%d", g.Algorithm, round, rounds)})
		res, err := r.d.Trainer.Train(ctx, train.Request{
			Run: r.cfg.RunID, Gen: gen, Algorithm: g.Algorithm, Rollouts: trajs,
			Parent: parent, ParentVersion: curVersion, Version: version,
			OutDir: out, MetricsPath: r.d.Store.Path(metrics), Seed: r.cfg.Seed + int64(gen)*7919 + int64(round-1)*104729,
		})
		if errors.Is(err, train.ErrNothingToTrain) {
			kept := "the parent's adapter"
			if curVersion != parentVersion {
				kept = fmt.Sprintf("round %d's adapter", round-1)
			}
			return trained{dir: curDir, version: curVersion, tokens: tokens, cost: cost, refused: fmt.Sprintf(
				"update refused in round %d/%d: %s trains no unit on these train rollouts (%v); the generation keeps %s (v%d)",
				round, rounds, g.Algorithm, err, kept, curVersion)}, nil
		}
		if err != nil {
			return trained{}, fmt.Errorf("train %s: %w", g.Algorithm, err)
		}
		curDir, curVersion = outRel, version
		if res.AdapterDir != "" && res.AdapterDir != out {
			curDir = res.AdapterDir // a remote trainer's reference (e.g. a tinker:// path)
		}
	}
	return trained{dir: curDir, version: curVersion, tokens: tokens, cost: cost}, nil
}

// trainRollouts returns one round's rollouts on train items over an
// adapter: read back if a previous attempt wrote them, else made and saved.
func (r *runner) trainRollouts(ctx context.Context, gen int, rel string, round int, adapterDir string, version int) ([]trajectory.Trajectory, error) {
	if trajs, err := trajectory.LoadPath(r.d.Store.Path(rel)); err == nil {
		return trajs, nil
	}
	g := r.st.Gen(gen)
	// Each round draws its own items and samples: on-policy data.
	stream := gen*1000 + round
	items := r.trainItems(stream)
	r.progress(Progress{Kind: "step", Gen: gen, Step: "train", Total: len(items) * r.cfg.TrainSamples})
	src, err := r.readHarness(gen) // a weights gen keeps its parent's harness
	if err != nil {
		return nil, err
	}
	h, err := r.loadWith(ctx, src, adapterDir, version, items)
	if err != nil {
		return nil, err
	}
	cfg := r.rolloutConfig(gen, task.Train, g.HarnessSHA, version, r.cfg.TrainSamples)
	cfg.Stream = stream
	trajs, err := rollout.Run(ctx, h, items, cfg,
		func(done, total int) {
			r.progress(Progress{Kind: "items", Gen: gen, Step: "train", Done: done, Total: total})
		})
	h.Close()
	if err != nil {
		return nil, err
	}
	if _, err := r.score(ctx, task.Train, trajs, r.cfg.TrainSamples); err != nil {
		return nil, err
	}
	if err := trajectory.WriteFile(r.d.Store.Path(rel), trajs); err != nil {
		return nil, err
	}
	return trajs, nil
}

// repairAdapters retrains, in generation order, any local adapter that
// events.jsonl says was trained but whose folder is gone: deleting an
// adapter and resuming gives back the same adapter.
func (r *runner) repairAdapters(ctx context.Context) error {
	for _, g := range r.st.Gens {
		if g.Action != agent.ActionWeights || !g.AdapterReady || g.AdapterDir == "" || strings.Contains(g.AdapterDir, "://") {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.d.Store.Path(g.AdapterDir), adapter.ConfigFile)); err == nil {
			continue
		}
		parent := r.st.Gen(g.Parent)
		r.progress(Progress{Kind: "notice", Text: fmt.Sprintf("adapter v%d of gen %d is missing: retraining it", g.AdapterVersion, g.Gen)})
		if _, err := r.trainAdapter(ctx, g.Gen, parent.AdapterDir, parent.AdapterVersion, g.AdapterVersion); err != nil {
			return fmt.Errorf("retrain adapter of gen %d: %w", g.Gen, err)
		}
	}
	return nil
}

// trainItems picks the train items a weight-update round rolls out on: a
// sample seeded by the run seed and salt (generation × 1000 + round), so
// each generation and round draws its own.
func (r *runner) trainItems(salt int) []task.Item {
	all := r.d.Data.Items(task.Train)
	n := min(r.cfg.TrainItems, len(all))
	idx := rand.New(rand.NewPCG(uint64(r.cfg.Seed), uint64(salt))).Perm(len(all))[:n]
	sort.Ints(idx)
	out := make([]task.Item, n)
	for i, j := range idx {
		out[i] = all[j]
	}
	return out
}
