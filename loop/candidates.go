package loop

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/stats"
	"github.com/sia-agent/sia/task"
)

const (
	// minRankItems is the smallest slice a candidate is ranked on.
	minRankItems = 4
	rankSalt     = 0x72616e6b // "rank"
)

// candidatesFile is gen_<n>/candidates.json: every candidate harness
// proposed for generation n, what ranking it cost and how it scored.
type candidatesFile struct {
	FormatVersion int `json:"format_version"`
	Gen           int `json:"gen"`
	// Budget and Spent count solves (item × sample); Samples is K.
	Budget  int `json:"budget"`
	Spent   int `json:"spent"`
	Samples int `json:"samples"`
	// Order is the selection slice's items in the order slices are taken:
	// round r ranks on its first Items of them.
	Order      []string          `json:"order"`
	Candidates []candidateRecord `json:"candidates"`
	Winner     int               `json:"winner"`
	Tokens     int               `json:"tokens"`
	CostUSD    float64           `json:"cost_usd"`
	Seconds    float64           `json:"seconds"`
}

type candidateRecord struct {
	Index      int            `json:"index"`
	HarnessSHA string         `json:"harness_sha"`
	Knobs      map[string]any `json:"knobs,omitempty"`
	Change     string         `json:"change"`
	Rounds     []rankRound    `json:"rounds"`
	// Score is the mean per-item reward on the last slice it was ranked
	// on, of Items items; EliminatedIn is that round (0 for the winner).
	Score        float64 `json:"score"`
	Items        int     `json:"items"`
	EliminatedIn int     `json:"eliminated_in,omitempty"`
	Won          bool    `json:"won"`
	Tokens       int     `json:"tokens"`
	Seconds      float64 `json:"seconds"`
}

type rankRound struct {
	Round int     `json:"round"`
	Items int     `json:"items"` // the slice ranked on (a prefix of Order)
	New   int     `json:"new"`   // items rolled out in this round
	Score float64 `json:"score"`
}

// rank ranks harness proposals for generation next by successive halving
// (Karnin et al., 2013) on growing prefixes of a seeded order of the
// selection slice: each round rolls every surviving candidate out on the
// items it has not yet solved (the same items and sample seeds for all:
// common random numbers), ranks them by mean per-item reward on the
// prefix, and keeps the better half, until one is left. Round r's prefix
// gets budget / (survivors × rounds × K) items, at least minRankItems (and
// at most the slice), so the ranking spends at most about the budget —
// less, since a round reuses what earlier rounds rolled out. Ties keep the
// agent's order.
func (r *runner) rank(ctx context.Context, next int, props []agent.FeedbackOutput) (candidatesFile, error) {
	start := time.Now()
	k := r.cfg.Samples
	budget := r.cfg.CandidateBudget
	if budget <= 0 {
		budget = len(r.sel) * k
	}
	f := candidatesFile{FormatVersion: 1, Gen: next, Budget: budget, Samples: k}
	order := make([]task.Item, len(r.sel))
	for i, j := range rand.New(rand.NewPCG(uint64(r.cfg.Seed), uint64(rankSalt+next))).Perm(len(r.sel)) {
		order[i] = r.sel[j]
		f.Order = append(f.Order, r.sel[j].ID)
	}
	inc := r.st.Gen(r.st.BestGen)
	rounds := int(math.Ceil(math.Log2(float64(len(props)))))
	per := make([][]float64, len(props)) // per-item mean rewards, in order
	for i, p := range props {
		f.Candidates = append(f.Candidates, candidateRecord{Index: i, HarnessSHA: p.Harness.SHA(),
			Knobs: p.Harness.Knobs, Change: firstNonEmpty(p.Decision.Change, p.Decision.Rationale)})
	}
	alive := make([]int, len(props))
	for i := range alive {
		alive[i] = i
	}
	prev := 0
	for round := 1; len(alive) > 1; round++ {
		m := budget / (len(alive) * rounds * k)
		m = min(max(m, minRankItems, prev), len(order))
		for _, c := range alive {
			if err := ctx.Err(); err != nil {
				return f, err
			}
			t0 := time.Now()
			items := order[len(per[c]):m]
			means, tokens, cost, err := r.rankRollout(ctx, next, props[c], inc.AdapterDir, inc.AdapterVersion, items, round, c, len(props))
			if err != nil {
				return f, err
			}
			per[c] = append(per[c], means...)
			rec := &f.Candidates[c]
			rec.Score, rec.Items = stats.Mean(per[c][:m]), m
			rec.Rounds = append(rec.Rounds, rankRound{Round: round, Items: m, New: len(items), Score: rec.Score})
			rec.Tokens += tokens
			rec.Seconds += since(t0)
			f.Spent += len(items) * k
			f.Tokens += tokens
			f.CostUSD += cost
		}
		sort.SliceStable(alive, func(i, j int) bool {
			return f.Candidates[alive[i]].Score > f.Candidates[alive[j]].Score
		})
		keep := (len(alive) + 1) / 2
		for _, c := range alive[keep:] {
			f.Candidates[c].EliminatedIn = round
		}
		alive = alive[:keep]
		prev = m
	}
	f.Winner = alive[0]
	f.Candidates[f.Winner].Won = true
	f.Seconds = since(start)
	return f, nil
}

// rankRollout rolls one candidate out on items over the incumbent's
// adapter and returns its per-item mean rewards in the items' order.
func (r *runner) rankRollout(ctx context.Context, next int, p agent.FeedbackOutput, dir string, version int,
	items []task.Item, round, c, n int) ([]float64, int, float64, error) {
	if len(items) == 0 {
		return nil, 0, 0, nil
	}
	r.progress(Progress{Kind: "step", Gen: next, Step: "rank",
		Text: fmt.Sprintf("round %d: candidate %d of %d on %d items", round, c+1, n, len(items))})
	var tl *tally
	err := r.runWarm(ctx, func(ctx context.Context) error {
		h, err := r.loadWith(ctx, *p.Harness, dir, version, items)
		if err != nil {
			return err
		}
		defer h.Close()
		tl, err = r.streamRollout(ctx, h, items, r.rolloutConfig(next, task.Val, p.Harness.SHA(), version, r.cfg.Samples), "", nil)
		return err
	})
	if err != nil {
		return nil, 0, 0, err
	}
	if _, err := r.scoreTally(ctx, task.Val, tl, ""); err != nil {
		return nil, 0, 0, err
	}
	_, means := tl.means()
	out := make([]float64, len(items))
	for i, it := range items {
		out[i] = means[it.ID]
	}
	return out, tl.tokens, tl.cost, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// rankedCandidates lists every candidate ranked for generations up to
// gen, from their candidates.json files.
func (r *runner) rankedCandidates(gen int) []agent.RankedCandidate {
	var out []agent.RankedCandidate
	for n := 2; n <= gen+1; n++ {
		var f candidatesFile
		if err := r.d.Store.ReadJSON(runstore.GenFile(n, runstore.CandidatesFile), &f); err != nil {
			continue
		}
		for _, c := range f.Candidates {
			out = append(out, agent.RankedCandidate{Gen: n, HarnessSHA: c.HarnessSHA, Knobs: c.Knobs,
				Score: c.Score, Items: c.Items, Won: c.Won})
		}
	}
	return out
}

// removeCandidates drops a candidates.json left by an earlier attempt at
// a decision that now proposes no ranking.
func (r *runner) removeCandidates(next int) error {
	err := os.Remove(filepath.Join(r.d.Store.GenDir(next), runstore.CandidatesFile))
	if os.IsNotExist(err) {
		return nil
	}
	return err
}
