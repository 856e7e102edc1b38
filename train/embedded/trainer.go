package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/train"
)

// Trainer trains LoRA adapters on a frozen tinylm base. It is safe for
// concurrent use: each Train call works on its own adapter.
type Trainer struct {
	base     *tinylm.Model
	baseName string
	cfg      Config
}

var _ train.Trainer = (*Trainer)(nil)

// New returns a trainer over base. baseName is written into each adapter's
// adapter_config.json as base_model_name_or_path (e.g. the checkpoint path).
func New(base *tinylm.Model, baseName string, cfg Config) (*Trainer, error) {
	if base == nil {
		return nil, errors.New("embedded trainer: base model is nil")
	}
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Trainer{base: base, baseName: baseName, cfg: cfg}, nil
}

// Train implements train.Trainer: it trains, writes the adapter to
// req.OutDir (PEFT layout) and per-step metrics to req.MetricsPath.
func (t *Trainer) Train(ctx context.Context, req train.Request) (*train.Result, error) {
	_, res, err := t.TrainAdapter(ctx, req)
	return res, err
}

// StepMetrics is one line of train.jsonl.
type StepMetrics struct {
	Step     int     `json:"step"`
	Epoch    int     `json:"epoch"`
	Loss     float64 `json:"loss"`
	KL       float64 `json:"kl"`     // mean per-token k3 KL to the base
	Reward   float64 `json:"reward"` // mean credited reward of the minibatch
	ClipFrac float64 `json:"clip_frac"`
	GradNorm float64 `json:"grad_norm"`
	Entropy  float64 `json:"entropy"` // mean next-token entropy on completion tokens
	Tokens   int     `json:"tokens"`
	// DPO only.
	Margin  float64 `json:"margin,omitempty"`
	PairAcc float64 `json:"pair_acc,omitempty"`
}

// TrainAdapter is Train that also returns the trained adapter, ready to
// serve (the loop can use it without reloading the folder).
func (t *Trainer) TrainAdapter(ctx context.Context, req train.Request) (*tinylm.Adapter, *train.Result, error) {
	alg, err := rl.ParseAlgorithm(string(req.Algorithm))
	if err != nil {
		return nil, nil, fmt.Errorf("embedded trainer: %w", err)
	}
	if req.OutDir == "" {
		return nil, nil, errors.New("embedded trainer: request has no output folder")
	}
	b := reward.Collect(req.Rollouts, reward.Options{MaxTokens: t.base.Config().Context})
	if len(b.Groups) == 0 {
		return nil, nil, fmt.Errorf("embedded trainer: none of %d model calls in %d rollouts carries prompt and completion token ids with logprobs (%d too long for the context)",
			b.ModelCalls, b.Trajectories, b.TooLong)
	}
	plan := b.Plan(alg, reward.Params{EntropicBeta: t.cfg.EntropicBeta})
	if plan.Units == 0 {
		// Refused before anything is written: an update that trains nothing
		// must not appear as a new adapter version.
		return nil, nil, fmt.Errorf("embedded trainer: %s on %d calls over %d items: %w", alg, len(b.Calls()), len(b.Groups), train.ErrNothingToTrain)
	}
	ad, err := t.startAdapter(req)
	if err != nil {
		return nil, nil, err
	}
	all, units := examples(&b, &plan)
	if alg == rl.PPO {
		// GAE with an untrained value head turns its noise into per-token
		// advantages, and the policy update follows that noise (measured on
		// the demo: reward fell after one update). Fit the critic to the
		// outcome returns first; the policy is untouched (its gradients are
		// cleared before each step, so AdamW leaves it as it is).
		if err := t.warmCritic(ctx, ad, all, req.Seed); err != nil {
			return nil, nil, err
		}
	}
	fromSampler, err := t.prepass(ctx, ad, all, alg)
	if err != nil {
		return nil, nil, err
	}

	run := &run{t: t, ad: ad, alg: alg, opt: tinylm.NewAdamW(t.cfg.LR, 0.9, 0.999, 1e-8, t.cfg.WeightDecay)}
	rng := rand.New(rand.NewPCG(uint64(req.Seed), uint64(req.Gen)^0x7a1))
	var steps []StepMetrics
	for epoch := 0; epoch < t.cfg.Epochs && len(units) > 0; epoch++ {
		rng.Shuffle(len(units), func(i, j int) { units[i], units[j] = units[j], units[i] })
		for lo := 0; lo < len(units); lo += t.cfg.MinibatchSeqs {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			m, err := run.step(units[lo:min(lo+t.cfg.MinibatchSeqs, len(units))])
			if err != nil {
				return nil, nil, fmt.Errorf("embedded trainer: %s step %d: %w", alg, len(steps)+1, err)
			}
			m.Step, m.Epoch = len(steps)+1, epoch+1
			steps = append(steps, m)
		}
	}
	if err := os.MkdirAll(req.OutDir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("embedded trainer: %w", err)
	}
	if err := ad.SavePEFT(req.OutDir, t.baseName); err != nil {
		return nil, nil, fmt.Errorf("embedded trainer: save adapter %q: %w", req.OutDir, err)
	}
	if req.MetricsPath != "" {
		if err := writeMetrics(req.MetricsPath, steps); err != nil {
			return nil, nil, err
		}
	}
	res := &train.Result{
		Version:    req.Version,
		AdapterDir: req.OutDir,
		Name:       fmt.Sprintf("policy-v%04d", req.Version),
		Metrics:    summary(steps, t.cfg.Epochs),
	}
	res.Metrics["examples"] = float64(len(all))
	res.Metrics["units"] = float64(len(units))
	res.Metrics["steps"] = float64(len(steps))
	res.Metrics["skipped_no_tokens"] = float64(b.NoTokens)
	res.Metrics["skipped_long"] = float64(b.TooLong)
	res.Metrics["old_from_sampler"] = fromSampler
	return ad, res, nil
}

// warmCritic fits the value head to the outcome return of each example
// (γ = 1 and one terminal reward: every token's return is the reward) for
// CriticWarmupEpochs epochs, changing nothing else.
func (t *Trainer) warmCritic(ctx context.Context, ad *tinylm.Adapter, all []*example, seed int64) error {
	if !ad.HasValueHead() {
		return nil
	}
	opt := tinylm.NewAdamW(t.cfg.CriticLR, 0.9, 0.999, 1e-8, 0)
	order := make([]*example, len(all))
	copy(order, all)
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc217))
	for epoch := 0; epoch < t.cfg.CriticWarmupEpochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for lo := 0; lo < len(order); lo += t.cfg.MinibatchSeqs {
			if err := ctx.Err(); err != nil {
				return err
			}
			batch := order[lo:min(lo+t.cfg.MinibatchSeqs, len(order))]
			seqs := make([][]int, len(batch))
			tokens := 0
			for i, e := range batch {
				seqs[i] = e.seq()
				tokens += len(e.completion)
			}
			tape, err := t.base.Forward(ad, seqs)
			if err != nil {
				return fmt.Errorf("embedded trainer: critic warm-up: %w", err)
			}
			dLogp := make([][]float32, len(batch))
			dValue := make([][]float32, len(batch))
			for i, e := range batch {
				dLogp[i] = make([]float32, len(tape.Logprobs[i]))
				dValue[i] = make([]float32, len(tape.Logprobs[i]))
				_, vg := rl.ValueLoss(completionSlice(tape.Values[i], e), constant(e.reward, len(e.completion)))
				for j := range vg {
					dValue[i][e.first()+j] = float32(vg[j] / float64(tokens))
				}
			}
			ad.ZeroGrad()
			if err := t.base.Backward(tape, dLogp, dValue); err != nil {
				return fmt.Errorf("embedded trainer: critic warm-up: %w", err)
			}
			ad.ZeroPolicyGrad()
			ad.Step(opt, t.cfg.GradClip)
		}
	}
	ad.ZeroGrad()
	return nil
}

// startAdapter loads the parent adapter or makes a fresh one.
func (t *Trainer) startAdapter(req train.Request) (*tinylm.Adapter, error) {
	if req.Parent != "" {
		ad, err := tinylm.LoadPEFT(req.Parent, t.base)
		if err != nil {
			return nil, fmt.Errorf("embedded trainer: load parent adapter %q: %w", req.Parent, err)
		}
		return ad, nil
	}
	ad, err := tinylm.NewAdapter(t.base, t.cfg.LoRA, req.Seed)
	if err != nil {
		return nil, fmt.Errorf("embedded trainer: new adapter: %w", err)
	}
	return ad, nil
}

// prepass computes, before any update, every example's reference (base)
// logprobs and π_old, and for PPO the value-head advantages and returns. It
// returns the fraction of examples whose stored sampling logprobs served as
// π_old.
func (t *Trainer) prepass(ctx context.Context, ad *tinylm.Adapter, all []*example, alg rl.Algorithm) (float64, error) {
	fromSampler := 0
	var values [][]float64
	for lo := 0; lo < len(all); lo += t.cfg.MinibatchSeqs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		batch := all[lo:min(lo+t.cfg.MinibatchSeqs, len(all))]
		seqs := make([][]int, len(batch))
		for i, e := range batch {
			seqs[i] = e.seq()
		}
		ref, err := t.base.Forward(nil, seqs)
		if err != nil {
			return 0, fmt.Errorf("embedded trainer: reference forward: %w", err)
		}
		cur, err := t.base.Forward(ad, seqs)
		if err != nil {
			return 0, fmt.Errorf("embedded trainer: parent forward: %w", err)
		}
		for i, e := range batch {
			e.ref = completionSlice(ref.Logprobs[i], e)
			parent := completionSlice(cur.Logprobs[i], e)
			drift := 0.0
			for j := range parent {
				drift += math.Abs(parent[j] - e.stored[j])
			}
			if drift/float64(len(parent)) <= t.cfg.MaxOldDrift {
				e.old = e.stored
				fromSampler++
			} else {
				e.old = parent
			}
			if alg == rl.PPO {
				v := make([]float64, len(e.completion))
				if cur.Values != nil {
					v = completionSlice(cur.Values[i], e)
				}
				values = append(values, v)
			}
		}
	}
	if alg == rl.PPO {
		var flat []float64
		for i, e := range all {
			adv, ret := rl.GAE(rl.OutcomeRewards(e.reward, len(e.completion)), values[i], t.cfg.GAEGamma, t.cfg.GAELambda)
			e.tokAdv, e.tokRet = adv, ret
			flat = append(flat, adv...)
		}
		white := rl.Whiten(flat)
		k := 0
		for _, e := range all {
			copy(e.tokAdv, white[k:k+len(e.tokAdv)])
			k += len(e.tokAdv)
		}
	}
	return float64(fromSampler) / float64(len(all)), nil
}

// completionSlice returns the tape positions that score e's completion
// tokens, as float64.
func completionSlice(row []float32, e *example) []float64 {
	out := make([]float64, len(e.completion))
	for j := range out {
		out[j] = float64(row[e.first()+j])
	}
	return out
}

// run is one Train call's mutable state.
type run struct {
	t   *Trainer
	ad  *tinylm.Adapter
	alg rl.Algorithm
	opt *tinylm.AdamW
}

// step runs one minibatch: forward, loss gradients per completion token,
// backward, AdamW.
func (r *run) step(units []unit) (StepMetrics, error) {
	var exs []*example
	for _, u := range units {
		if u.pair != nil {
			exs = append(exs, u.pair.chosen, u.pair.rejected)
		} else {
			exs = append(exs, u.ex)
		}
	}
	seqs := make([][]int, len(exs))
	tokens := 0
	for i, e := range exs {
		seqs[i] = e.seq()
		tokens += len(e.completion)
	}
	tape, err := r.t.base.Forward(r.ad, seqs)
	if err != nil {
		return StepMetrics{}, err
	}
	dLogp := make([][]float32, len(exs))
	var dValue [][]float32
	if r.alg == rl.PPO && tape.Values != nil {
		dValue = make([][]float32, len(exs))
	}
	m := StepMetrics{Tokens: tokens}
	norm := 1 / float64(tokens)
	logps := make([][]float64, len(exs))
	for i, e := range exs {
		logps[i] = completionSlice(tape.Logprobs[i], e)
		m.KL += rl.KLEstimate(logps[i], e.ref) * norm
		m.Reward += e.reward / float64(len(exs))
		for j := range e.completion {
			m.Entropy += float64(tape.Entropy[i][e.first()+j]) * norm
		}
		if r.alg == rl.DPO {
			continue // pairs below
		}
		var values []float64
		if dValue != nil {
			values = completionSlice(tape.Values[i], e)
		}
		loss, grad, dv, clipped := r.sequenceLoss(e, logps[i], values)
		m.Loss += loss * norm
		m.ClipFrac += float64(clipped) * norm
		dLogp[i] = scatter(grad, e, len(tape.Logprobs[i]), norm)
		if dv != nil {
			dValue[i] = scatter(dv, e, len(tape.Logprobs[i]), norm)
		}
	}
	if r.alg == rl.DPO {
		r.pairLosses(exs, logps, tape.Logprobs, dLogp, &m)
	}
	if err := r.t.base.Backward(tape, dLogp, dValue); err != nil {
		return m, err
	}
	m.GradNorm = r.ad.Step(r.opt, r.t.cfg.GradClip)
	r.ad.ZeroGrad()
	return m, nil
}

// sequenceLoss is the loss of one example under every algorithm but DPO,
// summed over its completion tokens, with its gradient per token, the
// value head's gradient per token (PPO, when values are given) and the
// number of clipped tokens.
func (r *run) sequenceLoss(e *example, logp, values []float64) (loss float64, grad, dValue []float64, clipped int) {
	cfg := &r.t.cfg
	switch r.alg {
	case rl.PPO:
		res := rl.PPOClip(logp, e.old, e.tokAdv, cfg.ClipEps)
		loss, grad, clipped = res.Loss, res.Grad, res.Clipped
		if values != nil {
			vl, vg := rl.ValueLoss(values, e.tokRet)
			loss += cfg.ValueCoef * vl
			dValue = make([]float64, len(vg))
			for j := range vg {
				dValue[j] = cfg.ValueCoef * vg[j]
			}
		}
	case rl.GRPO, rl.Entropic, rl.ReinforceKL:
		// The PPO-clip surrogate at ratio π/π_old keeps the several epochs
		// over the same samples from overshooting; on the first pass it is
		// the plain policy gradient.
		res := rl.PPOClip(logp, e.old, constant(e.adv, len(e.completion)), cfg.ClipEps)
		loss, grad, clipped = res.Loss, res.Grad, res.Clipped
		if r.alg == rl.ReinforceKL {
			// The k2 penalty: its gradient is that of KL(π‖base).
			pen, penGrad := rl.KLPenalty(logp, e.ref)
			loss += cfg.KLCoef * pen
			for j := range grad {
				grad[j] += cfg.KLCoef * penGrad[j]
			}
		}
	case rl.BestOfN:
		loss, grad = rl.CrossEntropy(logp, e.weight)
	}
	return loss, grad, dValue, clipped
}

// pairLosses adds DPO's loss over the minibatch's pairs (exs holds chosen,
// rejected, chosen, …), averaged over pairs, and its gradients; with
// DPONLL > 0 it adds that weight times the chosen completion's mean
// per-token negative log-likelihood (RPO).
func (r *run) pairLosses(exs []*example, logps [][]float64, tapeLogprobs [][]float32, dLogp [][]float32, m *StepMetrics) {
	np := float64(len(exs) / 2)
	for k := 0; k+1 < len(exs); k += 2 {
		c, rj := exs[k], exs[k+1]
		res := rl.DPOLoss(sum(logps[k]), sum(logps[k+1]), sum(c.ref), sum(rj.ref), r.t.cfg.DPOBeta)
		m.Loss += res.Loss / np
		m.Margin += res.Margin / np
		if res.Margin > 0 {
			m.PairAcc += 1 / np
		}
		gc := constant(res.GradChosen, len(c.completion))
		if r.t.cfg.DPONLL > 0 {
			nll, g := rl.CrossEntropy(logps[k], r.t.cfg.DPONLL/float64(len(c.completion)))
			m.Loss += nll / np
			for j := range gc {
				gc[j] += g[j]
			}
		}
		dLogp[k] = scatter(gc, c, len(tapeLogprobs[k]), 1/np)
		dLogp[k+1] = scatter(constant(res.GradRejected, len(rj.completion)), rj, len(tapeLogprobs[k+1]), 1/np)
	}
}

// scatter places per-completion-token gradients at their tape positions,
// scaled; prompt positions stay 0 (the loss mask).
func scatter(grad []float64, e *example, positions int, scale float64) []float32 {
	out := make([]float32, positions)
	for j, g := range grad {
		out[e.first()+j] = float32(g * scale)
	}
	return out
}

func constant(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

// summary averages the last epoch's steps.
func summary(steps []StepMetrics, epochs int) map[string]float64 {
	out := map[string]float64{}
	if len(steps) == 0 {
		return out
	}
	last := steps[len(steps)-1].Epoch
	n := 0.0
	for _, s := range steps {
		if s.Epoch != last {
			continue
		}
		n++
		out["loss"] += s.Loss
		out["kl"] += s.KL
		out["reward"] += s.Reward
		out["clip_frac"] += s.ClipFrac
		out["grad_norm"] += s.GradNorm
		out["entropy"] += s.Entropy
	}
	for k := range out {
		out[k] /= n
	}
	return out
}

func writeMetrics(path string, steps []StepMetrics) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("embedded trainer: metrics: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("embedded trainer: metrics: %w", err)
	}
	enc := json.NewEncoder(f)
	for i := range steps {
		if err := enc.Encode(&steps[i]); err != nil {
			f.Close()
			return fmt.Errorf("embedded trainer: write metrics %q: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("embedded trainer: write metrics %q: %w", path, err)
	}
	return nil
}
