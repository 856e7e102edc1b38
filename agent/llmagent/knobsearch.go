package llmagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/sia-agent/sia/agent/measure"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
)

// searchArgs are search_knobs' arguments.
type searchArgs struct {
	measureArgs
	Space map[string][]any `json:"space"`
}

// candidateView is one knob setting in search_knobs' answer.
type candidateView struct {
	Rank     int            `json:"rank"`
	Knobs    map[string]any `json:"knobs"`
	Changed  string         `json:"changed"`
	Score    float64        `json:"score"`
	SE       float64        `json:"se"`
	Gain     float64        `json:"gain_vs_current"`
	GainSE   float64        `json:"gain_se"`
	Wins     int            `json:"items_better"`
	Losses   int            `json:"items_worse"`
	SetupErr string         `json:"setup_error,omitempty"`
	ID       string         `json:"id"`
}

// searchKnobsTool measures one-knob-at-a-time variations of the current
// settings on the same folds and ranks them by paired gain.
func searchKnobsTool(b *bench) Tool {
	props := map[string]prop{"space": {typ: "object", desc: "knob → list of candidate values to try (each must be one of the knob's KNOBS " +
		"candidates); default: every declared candidate of the incumbent's KNOBS"}}
	for k, v := range measureProps {
		props[k] = v
	}
	return Tool{
		Spec: llm.Tool{
			Name: ToolSearchKnobs,
			Description: fmt.Sprintf("Search knob settings with measure_harness: the current settings (%s, or the first candidates) and every "+
				"setting that changes one knob to another candidate are measured on the same train folds and items (paired), then ranked by "+
				"score, each with its gain over the current settings ± the paired standard error and the items it wins and loses. At most %d "+
				"settings per call; each costs one measurement of the budget. It does not write %s: write the setting you choose.",
				KnobsFile, maxKnobCandidates, KnobsFile),
			Parameters: schema(props),
		},
		Run: func(ctx context.Context, raw json.RawMessage) (string, error) {
			var a searchArgs
			if err := decodeArgs(raw, &a); err != nil {
				return "", err
			}
			return b.searchKnobs(ctx, a)
		},
	}
}

func (b *bench) searchKnobs(ctx context.Context, a searchArgs) (string, error) {
	req, err := a.request(b.seed)
	if err != nil {
		return "", err
	}
	base, err := readSource(b.ws, b.name)
	if err != nil {
		return "", err
	}
	space := a.Space
	if len(space) == 0 {
		space = b.declared
	}
	if len(space) == 0 {
		return "", errors.New("no knobs to search: pass space (knob → candidate values); the harness declares them in KNOBS")
	}
	names := make([]string, 0, len(space))
	for k := range space {
		names = append(names, k)
	}
	sort.Strings(names)
	current := map[string]any{}
	for k, v := range base.Knobs {
		current[k] = v
	}
	type cand struct {
		knobs   map[string]any
		changed string
	}
	cands := []cand{{knobs: current, changed: "(current)"}}
	for _, k := range names {
		if len(space[k]) == 0 {
			return "", fmt.Errorf("space[%q] lists no values", k)
		}
		cur, set := current[k]
		if d := b.declared[k]; !set && len(d) > 0 {
			cur, set = d[0], true // a declared knob not set takes its first candidate
		}
		for _, v := range space[k] {
			if set && knobEqual(cur, v) {
				continue // the current setting
			}
			next := map[string]any{}
			for kk, vv := range current {
				next[kk] = vv
			}
			next[k] = v
			cands = append(cands, cand{knobs: next, changed: fmt.Sprintf("%s=%s", k, mustJSON(v))})
		}
	}
	if len(cands) > maxKnobCandidates {
		return "", fmt.Errorf("%d settings to try; at most %d per call: narrow space", len(cands), maxKnobCandidates)
	}
	if req.Items == 0 {
		req.Items = min(b.trainN, (b.budget-b.used)/(req.Samples*len(cands)))
	}
	if need := req.Items * req.Samples * len(cands); need > b.budget-b.used {
		return "", fmt.Errorf("budget: %d settings × %d items need %d item solves and %d are left; lower items or narrow space",
			len(cands), req.Items, need, b.budget-b.used)
	}
	var results []*measure.Result
	var ids []string
	for _, c := range cands {
		src := harness.Source{Name: base.Name, Code: base.Code, Knobs: c.knobs}
		res, id, err := b.run(ctx, &src, req)
		if err != nil {
			return "", fmt.Errorf("setting %s: %w", c.changed, err)
		}
		results, ids = append(results, res), append(ids, id)
	}
	out := make([]candidateView, len(cands))
	for i, c := range cands {
		cmp := measure.Compare(results[0], results[i])
		out[i] = candidateView{Knobs: c.knobs, Changed: c.changed, Score: round3(results[i].Score), SE: round3(results[i].SE),
			Gain: round3(cmp.Gain), GainSE: round3(cmp.SE), Wins: cmp.Wins, Losses: cmp.Loss, ID: ids[i]}
		for _, f := range results[i].Folds {
			if f.SetupError != "" {
				out[i].SetupErr = clip(f.SetupError, 300)
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	for i := range out {
		out[i].Rank = i + 1
	}
	return mustJSON(struct {
		Split      string          `json:"split"`
		Folds      int             `json:"folds"`
		Items      int             `json:"items"`
		Seed       int64           `json:"seed"`
		Candidates []candidateView `json:"ranked"`
		Note       string          `json:"note"`
		Budget     budgetView      `json:"budget"`
	}{"train", req.Folds, results[0].N, req.Seed, out,
		"gains are paired on the same items; a gain within about 2 × gain_se of 0 is noise", b.left()}), nil
}

// knobEqual compares knob values as JSON, numbers by value.
func knobEqual(a, b any) bool {
	fa, okA := toFloat(a)
	fb, okB := toFloat(b)
	if okA && okB {
		return math.Abs(fa-fb) < 1e-12
	}
	return mustJSON(a) == mustJSON(b)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
