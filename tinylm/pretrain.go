package tinylm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
)

// pretrain.go: full-parameter next-token training of a fresh model, for
// the per-task base checkpoint.

// PretrainOptions configures Pretrain. The zero value is usable.
type PretrainOptions struct {
	Steps     int     // optimizer steps; default 1000
	BatchSeqs int     // sequences per step; default 16
	SeqLen    int     // tokens per sequence; default min(128, Context)
	LR        float64 // peak learning rate; default 1e-3
	// WarmupSteps of linear warm-up precede a cosine decay to LR/10;
	// default Steps/20.
	WarmupSteps int
	// WeightDecay of AdamW; default 0.01, negative means none.
	WeightDecay float64
	Seed        int64 // seed of the window sampling (weights use Config.Seed)
	// Progress, when set, is called after every step with the step's mean
	// next-token loss (nats).
	Progress func(step, total int, loss float64)
	// Resume, when set, is a state file that makes the pretraining
	// resumable: it is saved every SaveEvery steps (default 100) and when
	// ctx ends, resumed from when it holds the same pretraining, and
	// removed when the pretraining completes. The result is the same as
	// an uninterrupted run's.
	Resume    string
	SaveEvery int
	// Log, when set, receives a line when a pretraining resumes, or
	// cannot resume from a state file it finds.
	Log func(string)
}

func (o PretrainOptions) withDefaults(ctxLen int) PretrainOptions {
	if o.Steps == 0 {
		o.Steps = 1000
	}
	if o.BatchSeqs == 0 {
		o.BatchSeqs = 16
	}
	if o.SeqLen == 0 {
		o.SeqLen = min(128, ctxLen)
	}
	if o.LR == 0 {
		o.LR = 1e-3
	}
	if o.WarmupSteps == 0 {
		o.WarmupSteps = o.Steps / 20
	}
	if o.SaveEvery <= 0 {
		o.SaveEvery = 100
	}
	if o.WeightDecay == 0 {
		o.WeightDecay = 0.01
	} else if o.WeightDecay < 0 {
		o.WeightDecay = 0
	}
	return o
}

// lrAt is the schedule: linear warm-up, then cosine decay to peak/10.
func (o PretrainOptions) lrAt(step int) float64 {
	if step < o.WarmupSteps {
		return o.LR * float64(step+1) / float64(o.WarmupSteps)
	}
	span := max(1, o.Steps-o.WarmupSteps)
	p := float64(step-o.WarmupSteps) / float64(span)
	return o.LR * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*p)))
}

// Pretrain trains a fresh model (New(cfg)) on corpus, a list of token-id
// documents concatenated as given (put BOS/EOS in them to mark boundaries).
// Each step draws BatchSeqs random windows of SeqLen tokens, minimises the
// mean next-token cross-entropy and applies AdamW (β 0.9/0.95, gradients
// clipped to norm 1). The result is deterministic for (cfg, corpus, opt).
func Pretrain(ctx context.Context, cfg Config, corpus [][]int, opt PretrainOptions) (m *Model, err error) {
	defer recoverInto(&err, "pretrain")
	m, err = New(cfg)
	if err != nil {
		return nil, fmt.Errorf("pretrain: %w", err)
	}
	cfg = m.cfg
	opt = opt.withDefaults(cfg.Context)
	switch {
	case opt.Steps < 0 || opt.BatchSeqs < 1 || opt.WarmupSteps < 0:
		return nil, fmt.Errorf("pretrain: steps %d, batch %d and warm-up %d must be positive", opt.Steps, opt.BatchSeqs, opt.WarmupSteps)
	case opt.SeqLen < 2 || opt.SeqLen > cfg.Context:
		return nil, fmt.Errorf("pretrain: seq len %d out of range [2, %d]", opt.SeqLen, cfg.Context)
	case !(opt.LR > 0):
		return nil, fmt.Errorf("pretrain: learning rate %v must be positive", opt.LR)
	}
	var stream []int
	for di, doc := range corpus {
		for i, id := range doc {
			if id < 0 || id >= cfg.Vocab {
				return nil, fmt.Errorf("pretrain: document %d token %d: id %d out of vocabulary [0,%d)", di, i, id, cfg.Vocab)
			}
		}
		stream = append(stream, doc...)
	}
	if len(stream) < 2 {
		return nil, errors.New("pretrain: corpus has fewer than 2 tokens")
	}
	seqLen := min(opt.SeqLen, len(stream))
	ps := m.params()
	for _, p := range ps {
		p.trainable()
	}
	adam := NewAdamW(opt.LR, 0.9, 0.95, 1e-8, opt.WeightDecay)
	pcg := rand.NewPCG(uint64(opt.Seed), 0x9e7a_1)
	rng := rand.New(pcg) //nolint:gosec // reproducible sampling
	seqs := make([][]int, opt.BatchSeqs)
	dLogp := make([][]float32, opt.BatchSeqs)
	for b := range dLogp {
		dLogp[b] = make([]float32, seqLen-1)
	}
	g := float32(-1 / float64(opt.BatchSeqs*(seqLen-1)))
	for b := range dLogp {
		for t := range dLogp[b] {
			dLogp[b][t] = g
		}
	}
	first, key := 0, ""
	if opt.Resume != "" {
		key = pretrainKey(cfg, opt, stream)
		done, err := loadResume(opt.Resume, key, m, adam, pcg)
		switch {
		case err != nil:
			opt.log(fmt.Sprintf("not resuming pretraining from %s: %v; starting afresh", opt.Resume, err))
		case done > 0:
			first = done
			opt.log(fmt.Sprintf("resuming pretraining at step %d of %d from %s", done, opt.Steps, opt.Resume))
		}
	}
	for step := first; step < opt.Steps; step++ {
		if err := ctx.Err(); err != nil {
			if opt.Resume != "" && step > first {
				_ = saveResume(opt.Resume, key, step, m, adam, pcg) // best effort: the next run resumes here
			}
			return nil, fmt.Errorf("pretrain: step %d: %w", step, err)
		}
		if opt.Resume != "" && step > first && step%opt.SaveEvery == 0 {
			if err := saveResume(opt.Resume, key, step, m, adam, pcg); err != nil {
				return nil, fmt.Errorf("pretrain: save resumable state: %w", err)
			}
		}
		for b := range seqs {
			s := rng.IntN(len(stream) - seqLen + 1)
			seqs[b] = stream[s : s+seqLen]
		}
		spans, err := m.packSpans(seqs)
		if err != nil {
			return nil, fmt.Errorf("pretrain: %w", err)
		}
		tp := m.forward(nil, seqs, spans)
		var loss float64
		for _, lp := range tp.Logprobs {
			for _, x := range lp {
				loss -= float64(x)
			}
		}
		loss /= float64(opt.BatchSeqs * (seqLen - 1))
		for _, p := range ps {
			clear(p.g)
		}
		m.backward(tp, flatten(dLogp, tp), nil, nil)
		tp.Release()
		adam.LR = opt.lrAt(step)
		adam.step(ps, 1.0)
		m.refresh()
		if opt.Progress != nil {
			opt.Progress(step+1, opt.Steps, loss)
		}
	}
	for _, p := range ps {
		p.g = nil
	}
	if opt.Resume != "" {
		_ = os.Remove(opt.Resume) // done: the caller saves the model itself
	}
	return m, nil
}

func (o PretrainOptions) log(line string) {
	if o.Log != nil {
		o.Log(line)
	}
}
