package tinker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/train/internal/trainset"
)

// datums turns examples into Tinker datums and picks the loss. Sequences
// are prompt+completion; model_input is seq[:-1] and every loss input is
// aligned to seq[1:], with zeros on the prompt positions. Examples whose
// completion carries no signal (all-zero advantages or weights) are left
// out: they add no gradient.
func (t *Trainer) datums(set *trainset.Set, ref map[int][]float64) ([]datum, string, map[string]float64) {
	lossFn := t.cfg.PolicyLoss
	if set.Algorithm == rl.BestOfN {
		lossFn = LossCrossEntropy
	}
	var out []datum
	tokens, klSum, klN := 0, 0.0, 0
	for i, e := range set.Examples {
		seq := append(append([]int(nil), e.Prompt...), e.Completion...)
		n := len(seq) - 1
		p := len(e.Prompt) - 1 // first position predicting a completion token
		inputs := map[string]tensorData{"target_tokens": int64Tensor(seq[1:])}
		if lossFn == LossCrossEntropy {
			if e.Weight == 0 {
				continue
			}
			w := make([]float32, n)
			for j := range e.Completion {
				w[p+j] = float32(e.Weight)
			}
			inputs["weights"] = float32Tensor(w)
		} else {
			lp := make([]float32, n)
			adv := make([]float32, n)
			signal := false
			for j := range e.Completion {
				a := e.Advantage
				if r, ok := ref[i]; ok {
					kl := e.Logprobs[j] - r[j]
					a -= t.cfg.KLCoef * kl
					klSum += kl
					klN++
				}
				lp[p+j] = float32(e.Logprobs[j])
				adv[p+j] = float32(a)
				signal = signal || a != 0
			}
			if !signal {
				continue
			}
			inputs["logprobs"] = float32Tensor(lp)
			inputs["advantages"] = float32Tensor(adv)
		}
		tokens += len(e.Completion)
		out = append(out, datum{ModelInput: tokensInput(seq[:n]), LossFnInputs: inputs})
	}
	stats := map[string]float64{"datums": float64(len(out)), "completion_tokens": float64(tokens)}
	if klN > 0 {
		stats["kl_to_base"] = klSum / float64(klN)
	}
	return out, lossFn, stats
}

// refLogprobs asks the base model for the logprobs of each example's
// completion (asample with prompt_logprobs over prompt+completion), for the
// KL-to-base penalty. Examples sampled from the base already carry them.
func (t *Trainer) refLogprobs(ctx context.Context, ex []trainset.Example) (map[int][]float64, error) {
	out := make(map[int][]float64, len(ex))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, e := range ex {
		if e.RefLogprobs != nil {
			out[i] = e.RefLogprobs
			continue
		}
		g.Go(func() error {
			seq := append(append([]int(nil), e.Prompt...), e.Completion...)
			var res sampleResult
			if err := t.c.operation(gctx, "asample", "Sample", sampleRequest{
				NumSamples: 1, Prompt: tokensInput(seq),
				SamplingParams: samplingParams{MaxTokens: 1, Temperature: 1, TopK: -1, TopP: 1},
				BaseModel:      t.cfg.BaseModel, PromptLogprobs: true, Type: "sample",
			}, &res); err != nil {
				return fmt.Errorf("tinker base logprobs for %s/%d: %w", e.Item, e.Sample, err)
			}
			if len(res.PromptLogprobs) != len(seq) {
				return fmt.Errorf("tinker base logprobs for %s/%d: %d prompt logprobs for %d tokens", e.Item, e.Sample, len(res.PromptLogprobs), len(seq))
			}
			r := make([]float64, len(e.Completion))
			for j := range r {
				v := res.PromptLogprobs[len(e.Prompt)+j]
				if v == nil || math.IsNaN(*v) {
					return fmt.Errorf("tinker base logprobs for %s/%d: missing logprob at token %d", e.Item, e.Sample, len(e.Prompt)+j)
				}
				r[j] = *v
			}
			mu.Lock()
			out[i] = r
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// metricsFile appends JSON lines to gen_<n>/train.jsonl.
type metricsFile struct{ f *os.File }

func openMetrics(path string) (*metricsFile, error) {
	if path == "" {
		return &metricsFile{}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("metrics folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open metrics: %w", err)
	}
	return &metricsFile{f: f}, nil
}

func (m *metricsFile) write(line map[string]float64) {
	if m.f == nil {
		return
	}
	b, _ := json.Marshal(line)
	m.f.Write(append(b, '\n'))
}

func (m *metricsFile) close() {
	if m.f != nil {
		m.f.Close()
	}
}
