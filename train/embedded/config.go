package embedded

import (
	"fmt"

	"github.com/sia-agent/sia/tinylm"
)

// Config holds the trainer's hyperparameters. The zero value is usable;
// every zero field takes the default documented beside it.
type Config struct {
	// LoRA configures new adapters (default: tinylm's defaults, rank 32
	// capped at d_model/2, targets q, k, v, o). A value head is always
	// added, so any later generation can run PPO.
	LoRA tinylm.LoRAConfig
	// LR is AdamW's learning rate (default 2e-4: on the demo 2e-3 drove the
	// KL to the base past 4 nats/token in one update, and 5e-4 over two
	// epochs memorised the train words at the expense of the others — see
	// TestRLTransfer in task/bundled/demo); WeightDecay 0 by default.
	LR          float64
	WeightDecay float64
	// Epochs over the generation's examples (default 1).
	Epochs int
	// MinibatchSeqs is the number of sequences per optimizer step (default 64).
	MinibatchSeqs int
	// GradClip is the global gradient-norm clip (default 1).
	GradClip float64
	// ClipEps is PPO's ratio clip ε (default 0.2).
	ClipEps float64
	// GAEGamma, GAELambda parameterise GAE (default 1, 0.95).
	GAEGamma, GAELambda float64
	// CriticWarmupEpochs fits the value head alone before a PPO update
	// (default 3), at CriticLR (default 1e-3).
	CriticWarmupEpochs int
	CriticLR           float64
	// ValueCoef weights the value loss (default 0.5).
	ValueCoef float64
	// KLCoef weights the KL-to-base penalty of REINFORCE+KL (default 0.1).
	KLCoef float64
	// DPOBeta is DPO's β (default 0.1).
	DPOBeta float64
	// DPONLL weights a mean per-token negative log-likelihood term on each
	// pair's chosen completion (default 0: plain DPO). Plain DPO can push
	// both completions down and the chosen one with them; a positive weight
	// adds the NLL term of RPO (Pang et al. 2024), which keeps the chosen
	// answer likely.
	DPONLL float64
	// EntropicBeta is β of entropic weighting (default 5).
	EntropicBeta float64
	// MaxOldDrift is the mean per-token |stored − recomputed| logprob gap up
	// to which a sample's stored sampling logprobs serve as PPO's π_old;
	// beyond it (samples drawn at a temperature other than 1) the parent's
	// recomputed logprobs do (default 0.05 nats).
	MaxOldDrift float64
}

func (c *Config) applyDefaults() {
	def := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.LR, 2e-4)
	def(&c.GradClip, 1)
	def(&c.ClipEps, 0.2)
	def(&c.GAEGamma, 1)
	def(&c.GAELambda, 0.95)
	def(&c.ValueCoef, 0.5)
	def(&c.CriticLR, 1e-3)
	if c.CriticWarmupEpochs == 0 {
		c.CriticWarmupEpochs = 3
	}
	def(&c.KLCoef, 0.1)
	def(&c.DPOBeta, 0.1)
	def(&c.EntropicBeta, 5)
	def(&c.MaxOldDrift, 0.05)
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.MinibatchSeqs == 0 {
		c.MinibatchSeqs = 64
	}
	c.LoRA.ValueHead = true
}

func (c Config) validate() error {
	if c.LR < 0 || c.Epochs < 0 || c.MinibatchSeqs < 0 || c.ClipEps < 0 || c.DPOBeta < 0 || c.KLCoef < 0 || c.DPONLL < 0 {
		return fmt.Errorf("embedded trainer: negative hyperparameter in %+v", c)
	}
	return nil
}
