package tinylm

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// The benchmark configuration of ../shared/ref/cpu-training-benchmark.md,
// mirrored by bench/torch/bench_tinylm.py: byte vocabulary 256, d 128,
// 4 layers, 4 heads, MLP 512, context 128; LoRA rank 16, alpha 16 on q, k, v,
// o; a batch of 16×128 tokens; AdamW lr 1e-3, weight decay 0.01.
var benchConfig = Config{Vocab: 256, DModel: 128, Layers: 4, Heads: 4, MLP: 512, Context: 128, Seed: 1}

const (
	benchBatch    = 16
	benchSeqLen   = 128
	benchPrompt   = 16
	benchSamples  = 8
	benchNewToken = 112
)

func benchBatchSeqs() [][]int {
	rng := rand.New(rand.NewPCG(1, 1))
	seqs := make([][]int, benchBatch)
	for b := range seqs {
		seqs[b] = make([]int, benchSeqLen)
		for i := range seqs[b] {
			seqs[b][i] = 32 + rng.IntN(95) // printable ASCII, like text bytes
		}
	}
	return seqs
}

// BenchmarkLoRAStep times one LoRA training step: forward over the batch,
// mean next-token cross-entropy, backward into the adapter, AdamW, and
// Tape.Release.
func BenchmarkLoRAStep(b *testing.B) { benchLoRAStep(b, true) }

// BenchmarkLoRAStepNoRelease is the same step leaving the tape to the
// garbage collector (what a caller that never calls Release gets).
func BenchmarkLoRAStepNoRelease(b *testing.B) { benchLoRAStep(b, false) }

func benchLoRAStep(b *testing.B, release bool) {
	m, err := New(benchConfig)
	if err != nil {
		b.Fatal(err)
	}
	a, err := NewAdapter(m, LoRAConfig{Rank: 16, Alpha: 16}, 1)
	if err != nil {
		b.Fatal(err)
	}
	opt := NewAdamW(1e-3, 0.9, 0.999, 1e-8, 0.01)
	seqs := benchBatchSeqs()
	dl := make([][]float32, len(seqs))
	for i := range dl {
		dl[i] = make([]float32, benchSeqLen-1)
		for j := range dl[i] {
			dl[i][j] = -1 / float32(benchBatch*(benchSeqLen-1))
		}
	}
	step := func() {
		tp, err := m.Forward(a, seqs)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Backward(tp, dl, nil); err != nil {
			b.Fatal(err)
		}
		if release {
			tp.Release()
		}
		a.Step(opt, 1)
		a.ZeroGrad()
	}
	step() // warm-up
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		step()
	}
	reportTokens(b, benchBatch*benchSeqLen*b.N, cpuTime()-cpu)
}

// reportTokens reports tokens per second of wall time and, where the CPU
// time is known, per CPU-second (all threads of the process together).
func reportTokens(b *testing.B, tokens int, cpu time.Duration) {
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tok/s")
	if cpu > 0 {
		b.ReportMetric(float64(tokens)/cpu.Seconds(), "tok/cpu-s")
	}
}

// BenchmarkForward times a forward pass over the batch (reference logprobs).
func BenchmarkForward(b *testing.B) {
	m, err := New(benchConfig)
	if err != nil {
		b.Fatal(err)
	}
	seqs := benchBatchSeqs()
	for b.Loop() {
		if _, err := m.Forward(nil, seqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchBatch*benchSeqLen*b.N)/b.Elapsed().Seconds(), "tok/s")
}

// BenchmarkSample times sampling 8 continuations of 112 tokens from a
// 16-token prompt at temperature 1 with the LoRA adapter on.
func BenchmarkSample(b *testing.B) {
	m, err := New(benchConfig)
	if err != nil {
		b.Fatal(err)
	}
	a, err := NewAdapter(m, LoRAConfig{Rank: 16, Alpha: 16}, 1)
	if err != nil {
		b.Fatal(err)
	}
	prompt := benchBatchSeqs()[0][:benchPrompt]
	o := SampleOptions{N: benchSamples, MaxTokens: benchNewToken, Temperature: 1, Seed: 1}
	cpu := cpuTime()
	for b.Loop() {
		if _, err := m.Sample(context.Background(), a, prompt, o); err != nil {
			b.Fatal(err)
		}
	}
	reportTokens(b, benchSamples*benchNewToken*b.N, cpuTime()-cpu)
}

// demoBaseConfig mirrors llm/embedded.DemoBase(): the base that the offline
// tasks pretrain on first use.
var demoBaseConfig = Config{DModel: 64, Layers: 2, Heads: 4, MLP: 192, Context: 128, Seed: 1}

// BenchmarkPretrainStep times full-parameter pretraining steps of the demo
// base (16×128 tokens a step, as DemoBase pretrains), 20 steps per
// iteration, reported as tokens per second.
func BenchmarkPretrainStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	doc := make([]int, 64*1024)
	for i := range doc {
		doc[i] = 32 + rng.IntN(95)
	}
	const steps = 20
	opt := PretrainOptions{Steps: steps, BatchSeqs: 16, SeqLen: 128, LR: 3e-3, Seed: 1}
	cpu := cpuTime()
	for b.Loop() {
		if _, err := Pretrain(context.Background(), demoBaseConfig, [][]int{doc}, opt); err != nil {
			b.Fatal(err)
		}
	}
	reportTokens(b, 16*128*steps*b.N, cpuTime()-cpu)
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(steps*b.N), "ms/step")
}
