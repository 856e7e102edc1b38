package llmagent

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rl"
)

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
