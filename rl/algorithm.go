package rl

import "fmt"

// Algorithm names an RL algorithm for a weight update.
type Algorithm string

// The six algorithms.
const (
	PPO         Algorithm = "ppo"          // PPO-clip with GAE and a value head
	Entropic    Algorithm = "entropic"     // entropic advantage weighting, weights ∝ exp(β·r)
	GRPO        Algorithm = "grpo"         // group-normalised advantages over K samples per item
	ReinforceKL Algorithm = "reinforce_kl" // REINFORCE with a baseline and a KL-to-base penalty
	DPO         Algorithm = "dpo"          // direct preference optimisation on best/worst pairs
	BestOfN     Algorithm = "best_of_n"    // behavioural cloning of the top samples
)

// Algorithms lists all algorithms in a stable order.
var Algorithms = []Algorithm{PPO, Entropic, GRPO, ReinforceKL, DPO, BestOfN}

// ParseAlgorithm validates a name.
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range Algorithms {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown algorithm %q (want ppo, entropic, grpo, reinforce_kl, dpo or best_of_n)", s)
}

// Stats describes the shape of a generation's rewards. It is what the
// Feedback-Agent sees and what Select reads.
type Stats struct {
	N              int     `json:"n"`     // samples
	Items          int     `json:"items"` // distinct items
	SamplesPerItem float64 `json:"samples_per_item"`
	SuccessRate    float64 `json:"success_rate"` // fraction with reward ≥ success threshold
	Mean           float64 `json:"mean"`
	Variance       float64 `json:"variance"`
	WithinItemVar  float64 `json:"within_item_var"` // mean over items of the reward variance across samples
	MixedItems     float64 `json:"mixed_items"`     // fraction of items whose samples disagree
	// PairGap is the mean, over items whose samples disagree, of the gap
	// between the item's best and worst reward: how clear a best-vs-worst
	// preference pair is.
	PairGap    float64 `json:"pair_gap"`
	FailedFrac float64 `json:"failed_frac"` // status error/invalid/missing
	Binary     bool    `json:"binary"`      // every reward is 0 or 1
	HeavyTail  bool    `json:"heavy_tail"`
	Skewness   float64 `json:"skewness"`
	// KLToBase is the mean per-token KL of the current adapter's sampling
	// distribution to the base, from the sampled logprobs; 0 for the base.
	KLToBase float64 `json:"kl_to_base"`
	// TokenSamples counts samples that carry token ids and logprobs: only
	// those can be trained on.
	TokenSamples int `json:"token_samples"`
	// Units counts, per algorithm, what an update on these samples would
	// learn reward from (package reward's Plan.Units): Select never picks an
	// algorithm with 0. nil when unknown (ComputeStats alone cannot tell).
	Units *Units `json:"units,omitempty"`
}

// Units holds a count per algorithm.
type Units struct {
	PPO         int `json:"ppo"`
	Entropic    int `json:"entropic"`
	GRPO        int `json:"grpo"`
	ReinforceKL int `json:"reinforce_kl"`
	DPO         int `json:"dpo"`
	BestOfN     int `json:"best_of_n"`
}

// Of returns a's count (0 for an unknown algorithm).
func (u *Units) Of(a Algorithm) int {
	if p := u.field(a); p != nil {
		return *p
	}
	return 0
}

// Set sets a's count; an unknown algorithm is ignored.
func (u *Units) Set(a Algorithm, n int) {
	if p := u.field(a); p != nil {
		*p = n
	}
}

func (u *Units) field(a Algorithm) *int {
	switch a {
	case PPO:
		return &u.PPO
	case Entropic:
		return &u.Entropic
	case GRPO:
		return &u.GRPO
	case ReinforceKL:
		return &u.ReinforceKL
	case DPO:
		return &u.DPO
	case BestOfN:
		return &u.BestOfN
	}
	return nil
}
