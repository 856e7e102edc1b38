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
	for _, alg := range rl.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			base := tinyBase(t)
			tr, err := New(base, "tiny", Config{LR: 5e-3, Epochs: 2, MinibatchSeqs: 16})
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
					t.Fatal(err)
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

func TestExtractCreditAndMask(t *testing.T) {
	step := func(comp string, ids []int) trajectory.Step {
		return trajectory.Step{Kind: trajectory.KindModel, Completion: comp, PromptTokenIDs: []int{1, 2, 3}, CompletionTokenIDs: ids, Logprobs: make([]float64, len(ids))}
	}
	rs := []trajectory.Trajectory{
		{Item: "b", Answer: "korbel", Reward: 1, Steps: []trajectory.Step{step("korbel", []int{4, 5}), step("karbol", []int{6, 7}), {Kind: trajectory.KindTool, Output: "x"}}},
		{Item: "a", Answer: "mist", Reward: 0, Steps: []trajectory.Step{step("mist", []int{4}), step("most", []int{5})}},
		{Item: "a", Answer: "x", Reward: 0, Steps: []trajectory.Step{{Kind: trajectory.KindModel, PromptTokenIDs: []int{1}}}}, // no completion
		{Item: "c", Answer: "y", Reward: 1, Steps: []trajectory.Step{step("y", make([]int, 40))}},                             // too long
	}
	groups, x := extract(rs, 32, CreditAgreement)
	if len(groups) != 2 || groups[0][0].item != "a" || groups[1][0].item != "b" {
		t.Fatalf("groups: %+v", groups)
	}
	if x.skippedNoTokens != 1 || x.skippedLong != 1 || x.calls != 6 || x.samples != 4 {
		t.Errorf("extraction %+v", x)
	}
	want := map[string][]float64{"a": {0, 0}, "b": {1, 0}}
	for _, g := range groups {
		for i, e := range g {
			if e.reward != want[e.item][i] {
				t.Errorf("item %s call %d: credited %v, want %v", e.item, i, e.reward, want[e.item][i])
			}
		}
	}
	g, _ := extract(rs, 32, CreditTrajectory)
	if g[1][1].reward != 1 {
		t.Errorf("trajectory credit gave %v, want 1", g[1][1].reward)
	}
	// The loss mask: gradients land on completion positions only.
	e := groups[1][0]
	d := scatter([]float64{-1, -2}, e, len(e.seq())-1, 0.5)
	wantD := []float32{0, 0, -0.5, -1}
	for i := range wantD {
		if d[i] != wantD[i] {
			t.Fatalf("scatter = %v, want %v", d, wantD)
		}
	}
}

func TestGroupPairs(t *testing.T) {
	mk := func(r float64, c int, prompt ...int) *example {
		return &example{reward: r, completion: []int{c}, prompt: prompt}
	}
	g := []*example{mk(0, 1, 9), mk(1, 2, 9), mk(0, 3, 9), mk(1, 2, 9), mk(1, 5, 8), mk(0, 6, 8), mk(0, 7, 7)}
	ps := groupPairs(g)
	// Prompt 9: two good (2, 2) vs two bad (1, 3) → two pairs; prompt 8: one; prompt 7: none.
	if len(ps) != 3 {
		t.Fatalf("%d pairs, want 3", len(ps))
	}
	for _, p := range ps {
		if p.chosen.reward <= p.rejected.reward || p.chosen.prompt[0] != p.rejected.prompt[0] {
			t.Errorf("bad pair %+v / %+v", *p.chosen, *p.rejected)
		}
	}
}

func TestRewardSamples(t *testing.T) {
	base := tinyBase(t)
	rs := rollouts(t, base, nil, 4)
	rs = append(rs, trajectory.Trajectory{Item: "no-tokens", Reward: 0, Status: "invalid"})
	ss, err := RewardSamples(t.Context(), base, nil, rs)
	if err != nil {
		t.Fatal(err)
	}
	st := rl.ComputeStats(ss)
	if st.N != nItems*kPer+1 || st.TokenSamples != nItems*kPer || st.KLToBase != 0 || st.Items != nItems+1 {
		t.Errorf("stats %+v", st)
	}
	ad, err := tinylm.NewAdapter(base, tinylm.LoRAConfig{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh adapter equals the base: KL 0; a trained one drifts.
	ss, _ = RewardSamples(t.Context(), base, ad, rs[:kPer])
	if st := rl.ComputeStats(ss); st.KLToBase > 1e-6 {
		t.Errorf("fresh adapter KL %v, want 0", st.KLToBase)
	}
	tr, _ := New(base, "tiny", Config{LR: 5e-2, Epochs: 3})
	trained, _, err := tr.TrainAdapter(t.Context(), train.Request{Algorithm: rl.BestOfN, Rollouts: rs, OutDir: t.TempDir(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ss, _ = RewardSamples(t.Context(), base, trained, rs[:kPer])
	if st := rl.ComputeStats(ss); !(st.KLToBase > 1e-4) {
		t.Errorf("trained adapter KL %v, want > 0", st.KLToBase)
	}
}
