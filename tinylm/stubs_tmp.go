package tinylm

import (
	"context"
	"errors"
)

var errNotImplemented = errors.New("tinylm: not implemented yet")

// Hash returns a content hash of the configuration and base weights.
func (m *Model) Hash() string { return "" }

// Save writes the model to a safetensors file.
func (m *Model) Save(path string) error { return errNotImplemented }

// Load reads a model written by Save.
func Load(path string) (*Model, error) { return nil, errNotImplemented }

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
