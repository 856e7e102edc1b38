package loop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rollout"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// itemMeans is the per-item mean reward over trajectories held in memory:
// what the loop computed before rollouts were streamed, kept here as the
// reference the tally must equal.
func itemMeans(trajs []trajectory.Trajectory) (ids []string, means map[string]float64) {
	sum, n := map[string]float64{}, map[string]int{}
	for _, t := range trajs {
		sum[t.Item] += t.Reward
		n[t.Item]++
	}
	means = make(map[string]float64, len(sum))
	for id, s := range sum {
		means[id] = s / float64(n[id])
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, means
}

// scoreInMemory is the loop's scoring before rollouts were streamed, over
// trajectories held in memory (it sets their status and reward): the
// reference the tally must equal.
func scoreInMemory(ctx context.Context, v verify.Verifier, gold map[string]string, trajs []trajectory.Trajectory, samples int) (*verify.Result, error) {
	index := map[string]int{}
	for i, t := range trajs {
		index[fmt.Sprintf("%s\x00%d", t.Item, t.Sample)] = i
	}
	var first *verify.Result
	sum := 0.0
	for k := 0; k < samples; k++ {
		res, err := v.Verify(ctx, rollout.Answers(trajs, k), gold)
		if err != nil {
			return nil, err
		}
		for j := range res.Items {
			it := &res.Items[j]
			i, ok := index[fmt.Sprintf("%s\x00%d", it.ID, k)]
			if !ok {
				continue
			}
			if e := trajs[i].Error; e != "" {
				it.Status, it.Reward, it.Detail = verify.StatusError, 0, verify.Truncate(e, 300)
			}
			trajs[i].Status, trajs[i].Reward = it.Status, it.Reward
		}
		res.Counts = map[string]int{}
		for _, it := range res.Items {
			res.Counts[it.Status]++
		}
		sum += res.Score
		if k == 0 {
			first = res
		}
	}
	first.Score = sum / float64(samples)
	if samples > 1 {
		first.Metrics[first.Metric+"_sample0"] = first.Metrics[first.Metric]
		first.Metrics[first.Metric] = first.Score
	}
	return first, nil
}

// The tally — a few bytes per sample, filled one trajectory at a time —
// scores a rollout, takes its per-item means and counts its failures and
// usage exactly as the in-memory code did over the whole slice.
func TestTallyEqualsInMemory(t *testing.T) {
	v := verify.ScorerVerifier{Spec: verify.Spec{Metric: "accuracy", Higher: true}, Scorer: verify.Exact{}}
	gold := map[string]string{}
	for i := range 30 {
		gold[fmt.Sprintf("i%02d", i)] = fmt.Sprint(i % 4)
	}
	// make builds a rollout: every item of ids × samples, answers right
	// on some samples; fail says which samples failed; skip which are
	// missing from the file.
	mk := func(ids []string, samples int, fail, skip func(i, k int) bool) []trajectory.Trajectory {
		var out []trajectory.Trajectory
		for i, id := range ids {
			for k := range samples {
				if skip(i, k) {
					continue
				}
				tr := trajectory.Trajectory{Item: id, Sample: k, Answer: fmt.Sprint((i + k) % 4),
					Steps: []trajectory.Step{{Kind: trajectory.KindModel, Usage: &llm.Usage{PromptTokens: i, CompletionTokens: k, CostUSD: 0.5}}}}
				if fail(i, k) {
					tr.Answer, tr.Error = "", fmt.Sprintf("boom %d/%d", i, k)
				}
				out = append(out, tr)
			}
		}
		return out
	}
	ids := func(n int, extra ...string) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("i%02d", (i*7)%30)) // not in id order
		}
		return append(out, extra...)
	}
	never := func(int, int) bool { return false }
	tests := []struct {
		name    string
		trajs   []trajectory.Trajectory
		samples int
	}{
		{"one sample", mk(ids(30), 1, never, never), 1},
		{"eight samples", mk(ids(30), 8, never, never), 8},
		{"failures", mk(ids(30), 4, func(i, k int) bool { return (i+k)%5 == 0 }, never), 4},
		{"every sample failed", mk(ids(10), 2, func(int, int) bool { return true }, never), 2},
		{"missing samples and an item without gold", mk(ids(20, "nogold"), 3, never, func(i, k int) bool { return i%4 == 1 && k == 2 }), 3},
		{"a slice of the split", mk(ids(5), 2, func(i, k int) bool { return i == 3 }, never), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := append([]trajectory.Trajectory(nil), tc.trajs...)
			want, err := scoreInMemory(t.Context(), v, goldFor(gold, old), old, tc.samples)
			if err != nil {
				t.Fatal(err)
			}
			wantIDs, wantMeans := itemMeans(old)

			tl := newTally(tc.samples)
			for i := range tc.trajs {
				tr := tc.trajs[i] // a copy: the tally must not keep it
				if err := tl.add(&tr); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tl.score(t.Context(), v, goldFor(gold, tc.trajs))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("result\n%+v\nwant\n%+v", got, want)
			}
			gotIDs, gotMeans := tl.means()
			if !reflect.DeepEqual(gotIDs, wantIDs) || !reflect.DeepEqual(gotMeans, wantMeans) {
				t.Errorf("means %v %v, want %v %v", gotIDs, gotMeans, wantIDs, wantMeans)
			}
			for i := range tc.trajs {
				tr := tc.trajs[i]
				tl.annotate(&tr)
				if tr.Status != old[i].Status || tr.Reward != old[i].Reward {
					t.Errorf("%s/%d annotated %s %v, want %s %v", tr.Item, tr.Sample, tr.Status, tr.Reward, old[i].Status, old[i].Reward)
				}
			}
			nFail, first, tokens, cost := 0, "", 0, 0.0
			for _, tr := range old {
				if tr.Error != "" {
					if nFail == 0 {
						first = tr.Error
					}
					nFail++
				}
				u := tr.Usage()
				tokens, cost = tokens+u.PromptTokens+u.CompletionTokens, cost+u.CostUSD
			}
			if tl.n != len(old) || tl.failed != nFail || tl.firstErr != first || tl.tokens != tokens || tl.cost != cost {
				t.Errorf("counts n %d failed %d %q tokens %d cost %v, want %d %d %q %d %v",
					tl.n, tl.failed, tl.firstErr, tl.tokens, tl.cost, len(old), nFail, first, tokens, cost)
			}
		})
	}
	if err := newTally(2).add(&trajectory.Trajectory{Item: "x", Sample: 2}); err == nil {
		t.Error("a sample index past --samples was accepted")
	}
}

// goldFor is the labels of the items rolled out (as runner.gold does).
func goldFor(gold map[string]string, trajs []trajectory.Trajectory) map[string]string {
	out := map[string]string{}
	for _, tr := range trajs {
		if g, ok := gold[tr.Item]; ok {
			out[tr.Item] = g
		}
	}
	return out
}

// A run folder from before compression (plain rollouts.jsonl files) is
// read and extended to the same result as a run that asked for more
// generations from the start; its rewritten files are compressed.
func TestLegacyPlainRolloutsExtend(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		code    string
		trainer bool
	}{
		{agent.ModeHarness, knobCode, false},
		{agent.ModeAuto, modelCode, true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			taskDir := writeTask(t, tc.code)
			long := filepath.Join(t.TempDir(), "run_t")
			if _, err := runLoop(t.Context(), taskDir, long, tc.mode, 4, false, tc.trainer); err != nil {
				t.Fatal(err)
			}
			short := filepath.Join(t.TempDir(), "run_t")
			if _, err := runLoop(t.Context(), taskDir, short, tc.mode, 2, false, tc.trainer); err != nil {
				t.Fatal(err)
			}
			before := canonical(t, short)
			zst, _ := filepath.Glob(filepath.Join(short, "*", "*.jsonl.zst"))
			if len(zst) < 3 {
				t.Fatalf("compressed rollout files %v", zst)
			}
			for _, p := range zst { // make it a run folder from before
				plain := strings.TrimSuffix(p, trajectory.CompressedExt)
				ts, err := trajectory.LoadPath(plain)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := trajectory.Write(&buf, ts); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(plain, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
			if got := canonical(t, short); got != before {
				t.Errorf("the plain run folder reads differently:\n%s\nwant\n%s", got, before)
			}
			if _, err := runLoopExt(t.Context(), taskDir, short, tc.mode, 4, true, true, tc.trainer); err != nil {
				t.Fatal(err)
			}
			if got, want := canonical(t, short), canonical(t, long); got != want {
				t.Errorf("extended legacy run:\n%s\nwant the longer run:\n%s", got, want)
			}
		})
	}
}
