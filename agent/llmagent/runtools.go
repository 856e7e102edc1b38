package llmagent

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// Output caps for the gold-free views the tools return.
const (
	maxOutputChars     = 300 // a verdict's answer or detail
	maxStepChars       = 800 // one trajectory step's text
	maxTrajectories    = 20  // read_trajectories' n
	maxStepsPerSample  = 24  // steps shown per trajectory
	defaultMaxTryItems = 20  // run_harness' n_items
	maxTryOutputItems  = 50  // items listed in a run_harness result
)

// runHarnessTool runs the harness in the workspace on n val items.
func runHarnessTool(ws *workspace, name string, try agent.TryFunc, maxItems int) Tool {
	return Tool{
		Spec: llm.Tool{
			Name: ToolRunHarness,
			Description: fmt.Sprintf("Run the harness now in the generation folder (%s, with %s if present) on the first n_items validation items "+
				"(at most %d) and return each item's status, reward, answer and gold-free detail, or the harness's load error.", name, KnobsFile, maxItems),
			Parameters: schema(map[string]prop{"n_items": {typ: "integer", desc: "how many validation items to run", min: intPtr(1)}}, "n_items"),
		},
		Run: func(ctx context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				NItems int `json:"n_items"`
			}
			if err := decodeArgs(raw, &a, "n_items"); err != nil {
				return "", err
			}
			if a.NItems < 1 {
				return "", fmt.Errorf("n_items must be ≥ 1 (got %d)", a.NItems)
			}
			n := min(a.NItems, maxItems)
			src, err := readSource(ws, name)
			if err != nil {
				return "", err
			}
			res, err := try(ctx, src, n)
			if err != nil {
				if ctx.Err() != nil {
					return "", ctx.Err()
				}
				return "", fmt.Errorf("run harness: %v", err)
			}
			return encodeTry(src.SHA(), a.NItems, n, res), nil
		},
	}
}

// tryReport is run_harness's answer.
type tryReport struct {
	HarnessSHA string              `json:"harness_sha"`
	N          int                 `json:"n"`
	Note       string              `json:"note,omitempty"`
	Counts     map[string]int      `json:"counts"`
	MeanReward float64             `json:"mean_reward"`
	Items      []verify.ItemResult `json:"items"`
}

func encodeTry(sha string, asked, n int, res []verify.ItemResult) string {
	r := tryReport{HarnessSHA: sha, N: len(res), Counts: map[string]int{}}
	if asked > n {
		r.Note = fmt.Sprintf("n_items capped at %d", n)
	}
	sum := 0.0
	for _, it := range res {
		r.Counts[it.Status]++
		sum += it.Reward
	}
	if len(res) > 0 {
		r.MeanReward = sum / float64(len(res))
	}
	for i, it := range res {
		if i == maxTryOutputItems {
			r.Note = fmt.Sprintf("%d more items not listed", len(res)-i)
			break
		}
		it.Output = clip(it.Output, maxOutputChars)
		it.Detail = clip(it.Detail, maxOutputChars)
		r.Items = append(r.Items, it)
	}
	return mustJSON(r)
}

// Trajectory filters beyond the verifier statuses.
const (
	filterAll    = "all"
	filterFailed = "failed" // every status but correct
)

var trajectoryFilters = []string{filterAll, filterFailed, verify.StatusCorrect, verify.StatusPartial,
	verify.StatusWrong, verify.StatusInvalid, verify.StatusMissing, verify.StatusError}

// readTrajectoriesTool samples this generation's rollouts.
func readTrajectoriesTool(ts []trajectory.Trajectory, seed int64) Tool {
	return Tool{
		Spec: llm.Tool{
			Name: ToolReadTrajectories,
			Description: fmt.Sprintf("Read up to n (at most %d) of this generation's rollouts on validation items, sampled at random, "+
				"optionally only those with a status (failed = every status but correct). Each shows the item, status, reward, answer, "+
				"harness error and the steps: model calls (last prompt message and completion), tool calls, logs and errors. No gold answers.", maxTrajectories),
			Parameters: schema(map[string]prop{
				"n":      {typ: "integer", desc: "how many rollouts", min: intPtr(1)},
				"filter": {typ: "string", desc: "status to keep", enum: trajectoryFilters},
			}, "n"),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				N      int    `json:"n"`
				Filter string `json:"filter"`
			}
			if err := decodeArgs(raw, &a, "n"); err != nil {
				return "", err
			}
			if a.N < 1 {
				return "", fmt.Errorf("n must be ≥ 1 (got %d)", a.N)
			}
			if a.Filter == "" {
				a.Filter = filterAll
			}
			keep, err := statusFilter(a.Filter)
			if err != nil {
				return "", err
			}
			var idx []int
			for i := range ts {
				if keep(ts[i].Status) {
					idx = append(idx, i)
				}
			}
			total := len(idx)
			// The same seed and filter give the same sample, so reruns match.
			h := fnv.New64a()
			h.Write([]byte(a.Filter))
			rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
			rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
			idx = idx[:min(len(idx), a.N, maxTrajectories)]
			sort.Ints(idx)
			out := struct {
				Matching int           `json:"matching"`
				Shown    int           `json:"shown"`
				Rollouts []rolloutView `json:"rollouts"`
			}{Matching: total, Shown: len(idx), Rollouts: []rolloutView{}}
			for _, i := range idx {
				out.Rollouts = append(out.Rollouts, viewRollout(&ts[i]))
			}
			return mustJSON(out), nil
		},
	}
}

func statusFilter(f string) (func(string) bool, error) {
	switch f {
	case filterAll:
		return func(string) bool { return true }, nil
	case filterFailed:
		return func(s string) bool { return s != verify.StatusCorrect }, nil
	}
	for _, s := range trajectoryFilters {
		if s == f {
			return func(st string) bool { return st == f }, nil
		}
	}
	return nil, fmt.Errorf("unknown filter %q (want one of %v)", f, trajectoryFilters)
}

// rolloutView is a trajectory as the agent reads it: no token ids, long
// texts clipped.
type rolloutView struct {
	Item    string     `json:"item"`
	Sample  int        `json:"sample"`
	Status  string     `json:"status"`
	Reward  float64    `json:"reward"`
	Answer  string     `json:"answer"`
	Error   string     `json:"error,omitempty"`
	Steps   []stepView `json:"steps"`
	Omitted int        `json:"steps_omitted,omitempty"`
}

type stepView struct {
	Kind       string `json:"kind"`
	Prompt     string `json:"prompt,omitempty"` // the last message sent
	Completion string `json:"completion,omitempty"`
	Tool       string `json:"tool,omitempty"`
	Input      string `json:"input,omitempty"`
	Output     string `json:"output,omitempty"`
	Text       string `json:"text,omitempty"`
}

func viewRollout(t *trajectory.Trajectory) rolloutView {
	v := rolloutView{Item: t.Item, Sample: t.Sample, Status: t.Status, Reward: t.Reward,
		Answer: clip(t.Answer, maxOutputChars), Error: clip(t.Error, maxStepChars), Steps: []stepView{}}
	steps := t.Steps
	if len(steps) > maxStepsPerSample { // keep the start and the end, where answers form
		head := maxStepsPerSample / 2
		v.Omitted = len(steps) - maxStepsPerSample
		steps = append(append([]trajectory.Step(nil), steps[:head]...), steps[len(steps)-(maxStepsPerSample-head):]...)
	}
	for _, s := range steps {
		sv := stepView{Kind: s.Kind}
		switch s.Kind {
		case trajectory.KindModel:
			if n := len(s.Messages); n > 0 {
				sv.Prompt = clip(s.Messages[n-1].Content, maxStepChars)
			}
			sv.Completion = clip(s.Completion, maxStepChars)
		case trajectory.KindTool:
			sv.Tool, sv.Input, sv.Output = s.Tool, clip(s.Input, maxStepChars), clip(s.Output, maxStepChars)
		default:
			sv.Text = clip(s.Text, maxStepChars)
		}
		v.Steps = append(v.Steps, sv)
	}
	return v
}

// statsReport is reward_stats' answer.
type statsReport struct {
	Gen             int            `json:"gen"`
	Metric          string         `json:"metric,omitempty"`
	Score           float64        `json:"score"`
	HigherIsBetter  bool           `json:"higher_is_better"`
	Counts          map[string]int `json:"counts,omitempty"`
	Stats           rl.Stats       `json:"reward_stats"`
	Recommended     rl.Algorithm   `json:"recommended_algorithm"`
	ForcedAlgorithm rl.Algorithm   `json:"forced_algorithm,omitempty"`
	Mode            string         `json:"mode"`
	CanTrain        bool           `json:"can_train"`
	AllowedActions  []string       `json:"allowed_actions"`
	RemainingGens   int            `json:"remaining_generations"`
}

func newStatsReport(in *agent.FeedbackInput) statsReport {
	r := statsReport{Gen: in.Gen, HigherIsBetter: in.Higher, Stats: in.Stats, Recommended: in.Recommended,
		ForcedAlgorithm: in.ForcedAlgorithm, Mode: modeOf(in.Mode), CanTrain: in.CanTrain,
		AllowedActions: allowedActions(in.Mode, in.CanTrain), RemainingGens: in.RemainingGens}
	if in.Results != nil {
		r.Metric, r.Score, r.Counts = in.Results.Metric, in.Results.Score, in.Results.Counts
	}
	return r
}

// rewardStatsTool returns the reward-shape statistics and the rule's pick.
func rewardStatsTool(in *agent.FeedbackInput) Tool {
	return Tool{
		Spec: llm.Tool{
			Name: ToolRewardStats,
			Description: "Return this generation's validation score; the shape of the incumbent's rewards (success rate, mean, variance, within-item variance, " +
				"failed fraction, binary or continuous, heavy tail, KL to base, training units per algorithm), which is what a weight update starts from; " +
				"the RL algorithm the rule table recommends for that shape (none when nothing can be learned), and the actions allowed now.",
			Parameters: schema(map[string]prop{}),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct{}
			if err := decodeArgs(raw, &a); err != nil {
				return "", err
			}
			return mustJSON(newStatsReport(in)), nil
		},
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + fmt.Sprintf("…[%d more chars]", len(r)-n)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return string(b)
}
