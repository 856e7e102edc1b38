package embedded

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sia-agent/sia/reward"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/tinylm"
	"github.com/sia-agent/sia/train"
	"github.com/sia-agent/sia/trajectory"
)

// The synthetic problem: item i's prompt is <bos><user>"q<i>"<end><assistant>;
// the candidate answers are the letters a–d, each closed by <end>; the
// correct answer is "c" for every item (the base's least likely letter), so
// a few updates can move the policy measurably. Rollouts draw K candidates per item with a
// seeded generator, with the policy's logprobs as sampling logprobs.
const (
	nItems = 8
	kPer   = 16
)

var letters = []string{"a", "b", "c", "d"}

const correct = 2

// tinyBase pretrains a small model on every item followed by every letter
// equally often, so the base answers with a letter but does not know which
// is right: reward about 1/4, with room to rise.
func tinyBase(t *testing.T) *tinylm.Model {
	t.Helper()
	var corpus [][]int
	for rep := 0; rep < 4; rep++ {
		for i := 0; i < nItems; i++ {
			for c := range letters {
				corpus = append(corpus, append(promptOf(i), completionOf(c)...))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(corpus), func(i, j int) { corpus[i], corpus[j] = corpus[j], corpus[i] })
	m, err := tinylm.Pretrain(t.Context(), tinylm.Config{DModel: 32, Layers: 1, Heads: 2, MLP: 64, Context: 32, Seed: 1}, corpus,
		tinylm.PretrainOptions{Steps: 150, BatchSeqs: 8, SeqLen: 32, LR: 1e-2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func promptOf(i int) []int {
	tok := tinylm.NewTokenizer()
	p := []int{tinylm.TokBOS, tinylm.TokUser}
	p = append(p, tok.Encode(fmt.Sprintf("q%d", i))...)
	return append(p, tinylm.TokEndTurn, tinylm.TokAssistant)
}

func completionOf(c int) []int {
	return append(tinylm.NewTokenizer().Encode(letters[c]), tinylm.TokEndTurn)
}

// candidateLogprobs returns log p(candidate c | item i) under m with a.
func candidateLogprobs(t *testing.T, m *tinylm.Model, a *tinylm.Adapter) [][]float64 {
	t.Helper()
	var seqs [][]int
	for i := 0; i < nItems; i++ {
		for c := range letters {
			seqs = append(seqs, append(promptOf(i), completionOf(c)...))
		}
	}
	tape, err := m.Forward(a, seqs)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, nItems)
	for i := 0; i < nItems; i++ {
		out[i] = make([]float64, len(letters))
		for c := range letters {
			row := tape.Logprobs[i*len(letters)+c]
			p := len(promptOf(i)) - 1
			out[i][c] = float64(row[p]) + float64(row[p+1])
		}
	}
	return out
}

// meanReward is the exact expected reward Σ_c p(c)·r(c): only the correct
// letter followed by <end> earns 1.
func meanReward(t *testing.T, m *tinylm.Model, a *tinylm.Adapter) float64 {
	lp := candidateLogprobs(t, m, a)
	s := 0.0
	for i := range lp {
		s += math.Exp(lp[i][correct])
	}
	return s / nItems
}

// rollouts samples K completions per item from the policy (base + a), on
// policy as the loop does, with the sampling logprobs as stored.
func rollouts(t *testing.T, m *tinylm.Model, a *tinylm.Adapter, seed uint64) []trajectory.Trajectory {
	t.Helper()
	tok := tinylm.NewTokenizer()
	var out []trajectory.Trajectory
	for i := 0; i < nItems; i++ {
		ss, err := m.Sample(t.Context(), a, promptOf(i), tinylm.SampleOptions{N: kPer, MaxTokens: 4, Temperature: 1,
			StopTokens: []int{tinylm.TokEndTurn}, Seed: int64(seed)*100 + int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		for k, smp := range ss {
			text := tok.Decode(smp.Tokens)
			r := 0.0
			if slices.Equal(smp.Tokens, completionOf(correct)) {
				r = 1
			}
			out = append(out, trajectory.Trajectory{
				Item: fmt.Sprintf("item-%d", i), Sample: k, Answer: text, Reward: r,
				Steps: []trajectory.Step{{
					Kind: trajectory.KindModel, Completion: text,
					PromptTokenIDs: promptOf(i), CompletionTokenIDs: smp.Tokens, Logprobs: smp.Logprobs,
				}},
			})
		}
	}
	return out
}

func TestEachAlgorithmRaisesReward(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains an adapter per algorithm; .ci/run runs it")
	}
	for _, alg := range rl.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			base := tinyBase(t)
			cfg := Config{LR: 5e-3, Epochs: 2, MinibatchSeqs: 16}
			if alg == rl.DPO {
				// Plain DPO collapses this toy policy: one update at this
				// learning rate takes the expected reward from 0.25 to 0.002,
				// both completions of every pair sinking together (measured
				// with DPONLL 0). The NLL term (RPO) keeps the chosen likely.
				cfg.DPONLL = 1
			}
			tr, err := New(base, "tiny", cfg)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var ad *tinylm.Adapter
			parent := ""
			before := meanReward(t, base, nil)
			for gen := 1; gen <= 3; gen++ {
				out := filepath.Join(dir, fmt.Sprintf("v%d", gen))
				req := train.Request{Gen: gen, Algorithm: alg, Rollouts: rollouts(t, base, ad, uint64(gen)),
					Parent: parent, Version: gen, OutDir: out, MetricsPath: filepath.Join(out, "train.jsonl"), Seed: 11}
				a, res, err := tr.TrainAdapter(t.Context(), req)
				if err != nil {
					t.Fatalf("gen %d: %v", gen, err)
				}
				if res.Metrics["steps"] == 0 {
					t.Fatalf("gen %d: no optimizer step (metrics %v)", gen, res.Metrics)
				}
				ad, parent = a, out
			}
			after := meanReward(t, base, ad)
			t.Logf("%s: expected reward %.3g → %.3g", alg, before, after)
			if !(after > before+0.03) { // measured exactly, no sampling noise
				t.Errorf("%s: expected reward %.3g → %.3g, want a clear rise", alg, before, after)
			}
			// The saved adapter reloads to the same policy.
			re, err := tinylm.LoadPEFT(parent, base)
			if err != nil {
				t.Fatal(err)
			}
			if got := meanReward(t, base, re); math.Abs(got-after) > 1e-6 {
				t.Errorf("reloaded adapter gives %.6f, trained one %.6f", got, after)
			}
		})
	}
}

// warmStart clones every candidate answer for every item, so the starting
// adapter puts roughly equal mass on the four letters: reward about 1/4,
// with room to rise.
func warmStart(t *testing.T, base *tinylm.Model, dir string) (*tinylm.Adapter, string) {
	t.Helper()
	var rs []trajectory.Trajectory
	for i := 0; i < nItems; i++ {
		for c := range letters {
			rs = append(rs, trajectory.Trajectory{Item: fmt.Sprintf("item-%d", i), Sample: c, Answer: letters[c], Reward: 1,
				Steps: []trajectory.Step{{Kind: trajectory.KindModel, Completion: letters[c], PromptTokenIDs: promptOf(i),
					CompletionTokenIDs: completionOf(c), Logprobs: []float64{0, 0}}}})
		}
	}
	tr, err := New(base, "tiny", Config{LR: 1e-2, Epochs: 40, MinibatchSeqs: 16})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "warm")
	ad, _, err := tr.TrainAdapter(t.Context(), train.Request{Algorithm: rl.BestOfN, Rollouts: rs, OutDir: out, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return ad, out
}

func TestBaseFrozenAndDeterministic(t *testing.T) {
	base := tinyBase(t)
	hash := base.Hash()
	before := meanReward(t, base, nil)
	tr, err := New(base, "tiny", Config{LR: 1e-2})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rs := rollouts(t, base, nil, 1)
	var files [2][]byte
	for i := range files {
		out := filepath.Join(dir, fmt.Sprint(i))
		if _, err := tr.Train(t.Context(), train.Request{Algorithm: rl.GRPO, Rollouts: rs, OutDir: out, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "adapter_model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		files[i] = b
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("two runs with the same seed wrote different adapters")
	}
	if base.Hash() != hash || meanReward(t, base, nil) != before {
		t.Error("training changed the base model")
	}
}

// TestLossMask: gradients land on completion positions only.
func TestLossMask(t *testing.T) {
	e := &example{prompt: []int{1, 2, 3}, completion: []int{4, 5}}
	d := scatter([]float64{-1, -2}, e, len(e.seq())-1, 0.5)
	want := []float32{0, 0, -0.5, -1}
	if !slices.Equal(d, want) {
		t.Fatalf("scatter = %v, want %v", d, want)
	}
}

// TestKLToBase: the base measures 0 against itself and so does a fresh
// adapter (its LoRA B matrices are 0); an update that changes the policy
// measures a positive KL on the tokens the changed policy samples.
func TestKLToBase(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains an adapter; .ci/run runs it")
	}
	base := tinyBase(t)
	tr, err := New(base, "tiny", Config{LR: 5e-2, Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	mean := func(adapterDir string, rs []trajectory.Trajectory) float64 {
		t.Helper()
		b := reward.Collect(rs, tr.RewardOptions())
		kl, err := tr.KLToBase(t.Context(), adapterDir, b.Calls())
		if err != nil {
			t.Fatal(err)
		}
		if len(kl) != len(b.Calls()) || len(kl) == 0 {
			t.Fatalf("%d KL values for %d calls", len(kl), len(b.Calls()))
		}
		s := 0.0
		for _, v := range kl {
			s += v
		}
		return s / float64(len(kl))
	}
	rs := rollouts(t, base, nil, 4)
	if kl := mean("", rs); kl != 0 {
		t.Errorf("base KL %v, want 0", kl)
	}
	fresh, err := tinylm.NewAdapter(base, tinylm.LoRAConfig{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	freshDir := filepath.Join(t.TempDir(), "fresh")
	if err := fresh.SavePEFT(freshDir, "tiny"); err != nil {
		t.Fatal(err)
	}
	if kl := mean(freshDir, rs); kl > 1e-6 {
		t.Errorf("fresh adapter KL %v, want 0", kl)
	}
	out := filepath.Join(t.TempDir(), "trained")
	trained, _, err := tr.TrainAdapter(t.Context(), train.Request{Algorithm: rl.BestOfN, Rollouts: rs, OutDir: out, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if kl := mean(out, rollouts(t, base, trained, 5)); !(kl > 1e-3) {
		t.Errorf("KL to base after an update %v, want > 0", kl)
	}
}
