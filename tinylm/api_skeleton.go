package tinylm

import (
	"context"
	"errors"
)

// This file holds the exported API while the implementation is being filled
// in; every function here is replaced by its real version in its own file.

var errNotImplemented = errors.New("tinylm: not implemented yet")

// Model is the base transformer. Its weights are frozen during LoRA training.
type Model struct{ cfg Config }

// New returns a model with seeded random weights.
func New(cfg Config) (*Model, error) { return nil, errNotImplemented }

// Config returns the model's configuration (defaults applied).
func (m *Model) Config() Config { return m.cfg }

// Hash returns a content hash of the configuration and base weights.
func (m *Model) Hash() string { return "" }

// Save writes the model to a safetensors file.
func (m *Model) Save(path string) error { return errNotImplemented }

// Load reads a model written by Save.
func Load(path string) (*Model, error) { return nil, errNotImplemented }

// LoRAConfig configures an adapter. The zero value is usable.
type LoRAConfig struct {
	Rank      int      `json:"r"`
	Alpha     float64  `json:"lora_alpha"`
	Targets   []string `json:"targets"`
	ValueHead bool     `json:"value_head"`
}

// Adapter holds LoRA A/B matrices per target per layer and an optional
// value head, with their gradients.
type Adapter struct{ cfg LoRAConfig }

// NewAdapter returns a fresh adapter for m; B is zero so it equals the base.
func NewAdapter(m *Model, cfg LoRAConfig, seed int64) (*Adapter, error) {
	return nil, errNotImplemented
}

// Tape is the result of Forward, kept for Backward.
type Tape struct {
	Logprobs [][]float32
	Values   [][]float32
	Entropy  [][]float32
}

// Forward runs a batch of sequences.
func (m *Model) Forward(a *Adapter, seqs [][]int) (*Tape, error) { return nil, errNotImplemented }

// Backward accumulates adapter gradients.
func (m *Model) Backward(t *Tape, dLogp, dValue [][]float32) error { return errNotImplemented }

// BackwardEntropy is Backward with an entropy gradient too.
func (m *Model) BackwardEntropy(t *Tape, dLogp, dValue, dEntropy [][]float32) error {
	return errNotImplemented
}

// AdamW is the optimizer.
type AdamW struct{ LR, Beta1, Beta2, Eps, WeightDecay float64 }

// NewAdamW returns an AdamW optimizer.
func NewAdamW(lr, beta1, beta2, eps, wd float64) *AdamW {
	return &AdamW{LR: lr, Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: wd}
}

// Step applies one optimizer step to the adapter and returns the gradient norm.
func (a *Adapter) Step(opt *AdamW, clipNorm float64) float64 { return 0 }

// ZeroGrad clears the adapter's gradients.
func (a *Adapter) ZeroGrad() {}

// PretrainOptions configures Pretrain.
type PretrainOptions struct {
	Steps, BatchSeqs, SeqLen int
	LR                       float64
	Seed                     int64
	Progress                 func(step, total int, loss float64)
}

// Pretrain trains a fresh model on corpus.
func Pretrain(ctx context.Context, cfg Config, corpus [][]int, opt PretrainOptions) (*Model, error) {
	return nil, errNotImplemented
}

// SampleOptions configures Sample.
type SampleOptions struct {
	N, MaxTokens int
	Temperature  float64
	TopP         float64
	StopTokens   []int
	Seed         int64
}

// Sampled is one sampled continuation.
type Sampled struct {
	Tokens       []int
	Logprobs     []float64
	FinishReason string
}

// Sample draws o.N continuations of prompt.
func (m *Model) Sample(ctx context.Context, a *Adapter, prompt []int, o SampleOptions) ([]Sampled, error) {
	return nil, errNotImplemented
}

// SavePEFT writes the adapter as a PEFT folder.
func (a *Adapter) SavePEFT(dir, baseName string) error { return errNotImplemented }

// LoadPEFT reads an adapter folder written by SavePEFT.
func LoadPEFT(dir string, m *Model) (*Adapter, error) { return nil, errNotImplemented }
