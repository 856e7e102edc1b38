package tinylm

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
)

func TestTokenizerRoundTrip(t *testing.T) {
	tok := NewTokenizer()
	for _, s := range []string{"", "hello", "中华人民共和国刑法第二百六十四条", "mixed 中文 and émoji 🎉", "<|user|> stays text", "\x00\xff\xfe invalid utf8"} {
		ids := tok.Encode(s)
		for _, id := range ids {
			if id < 0 || id > 255 {
				t.Fatalf("Encode(%q) produced non-byte id %d", s, id)
			}
		}
		if got := tok.Decode(ids); got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
	}
	ids := append([]int{tok.BOS()}, tok.Encode("你好")...)
	ids = append(ids, tok.EOS(), 9999, -1)
	if got := tok.Decode(ids); got != "你好" {
		t.Errorf("Decode skips specials: got %q", got)
	}
	if tok.Vocab() != TokenizerVocab || !tok.IsSpecial(TokEOS) || tok.IsSpecial(65) {
		t.Error("vocab or IsSpecial wrong")
	}
	for role, want := range map[string]int{"system": TokSystem, "user": TokUser, "assistant": TokAssistant, "tool": TokTool} {
		if got, err := tok.RoleToken(role); err != nil || got != want {
			t.Errorf("RoleToken(%q) = %d, %v", role, got, err)
		}
	}
	if _, err := tok.RoleToken("narrator"); err == nil {
		t.Error("RoleToken accepted an unknown role")
	}
	if tok.TokenText(TokUser) != "<|user|>" {
		t.Errorf("TokenText(user) = %q", tok.TokenText(TokUser))
	}
}

func TestConfig(t *testing.T) {
	d := Config{}.WithDefaults()
	if d != (Config{Vocab: TokenizerVocab, DModel: 128, Layers: 4, Heads: 4, MLP: 512, Context: 256}) {
		t.Errorf("defaults = %+v", d)
	}
	for _, tc := range []struct {
		cfg  Config
		want string // "" = valid
	}{
		{Config{}, ""},
		{Config{DModel: 12, Heads: 5}, "not a multiple"},
		{Config{Layers: -1}, "layers"},
		{Config{Context: 1 << 20}, "context"},
	} {
		_, err := New(tc.cfg)
		if tc.want == "" && err != nil {
			t.Errorf("New(%+v): %v", tc.cfg, err)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("New(%+v) error %v, want it to mention %q", tc.cfg, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in      LoRAConfig
		rank    int
		alpha   float64
		targets []string
		bad     bool
	}{
		{LoRAConfig{}, 32, 64, []string{"q", "k", "v", "o"}, false},
		{LoRAConfig{Targets: []string{"down_proj", "Q_PROJ", "up", "q"}}, 32, 64, []string{"q", "up", "down"}, false},
		{LoRAConfig{Rank: 8, Alpha: 8}, 8, 8, []string{"q", "k", "v", "o"}, false},
		{LoRAConfig{Targets: []string{"gate"}}, 0, 0, nil, true},
		{LoRAConfig{Rank: 500}, 0, 0, nil, true},
		{LoRAConfig{Alpha: -1}, 0, 0, nil, true},
	} {
		got, err := tc.in.WithDefaults(128)
		if tc.bad {
			if err == nil {
				t.Errorf("%+v: no error", tc.in)
			}
			continue
		}
		if err != nil || got.Rank != tc.rank || got.Alpha != tc.alpha || !slices.Equal(got.Targets, tc.targets) {
			t.Errorf("%+v → %+v, %v", tc.in, got, err)
		}
	}
	small, _ := LoRAConfig{}.WithDefaults(16)
	if small.Rank != 8 {
		t.Errorf("rank for d_model 16 = %d, want 8 (capped at d/2)", small.Rank)
	}
}

func smallModel(t *testing.T) *Model {
	t.Helper()
	m, err := New(Config{Vocab: TokenizerVocab, DModel: 32, Layers: 2, Heads: 4, MLP: 64, Context: 48, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// perturbedAdapter returns an adapter whose B is non-zero, so it differs
// from the base.
func perturbedAdapter(t *testing.T, m *Model, cfg LoRAConfig) *Adapter {
	t.Helper()
	a, err := NewAdapter(m, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 5))
	for _, p := range a.params() {
		for i := range p.w {
			p.w[i] += float32(rng.NormFloat64() * 0.05)
		}
	}
	a.refresh()
	return a
}

func TestFreshAdapterEqualsBase(t *testing.T) {
	m := smallModel(t)
	a, err := NewAdapter(m, LoRAConfig{Targets: []string{"q", "k", "v", "o", "up", "down"}, ValueHead: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	seqs := [][]int{{1, 2, 3, 4, 5, 6}, {TokBOS, 200, 100}}
	base, err := m.Forward(nil, seqs)
	if err != nil {
		t.Fatal(err)
	}
	ad, err := m.Forward(a, seqs)
	if err != nil {
		t.Fatal(err)
	}
	for b := range seqs {
		if !slices.Equal(base.Logprobs[b], ad.Logprobs[b]) {
			t.Errorf("seq %d: fresh adapter logprobs %v differ from base %v", b, ad.Logprobs[b], base.Logprobs[b])
		}
		if len(ad.Values[b]) != len(seqs[b])-1 {
			t.Errorf("seq %d: %d values, want %d", b, len(ad.Values[b]), len(seqs[b])-1)
		}
	}
	if base.Values != nil {
		t.Error("base forward returned values")
	}
	// and a perturbed one is different
	p := perturbedAdapter(t, m, LoRAConfig{})
	pt, _ := m.Forward(p, seqs)
	if slices.Equal(pt.Logprobs[0], base.Logprobs[0]) {
		t.Error("perturbed adapter gives the base logprobs")
	}
}

func TestForwardErrors(t *testing.T) {
	m := smallModel(t)
	other := smallModel(t)
	oa, _ := NewAdapter(other, LoRAConfig{}, 1)
	for name, tc := range map[string]struct {
		a    *Adapter
		seqs [][]int
	}{
		"empty batch":    {nil, nil},
		"empty sequence": {nil, [][]int{{1}, {}}},
		"too long":       {nil, [][]int{make([]int, 49)}},
		"bad token":      {nil, [][]int{{1, TokenizerVocab}}},
		"negative token": {nil, [][]int{{-3}}},
		"other model":    {oa, [][]int{{1, 2}}},
	} {
		if _, err := m.Forward(tc.a, tc.seqs); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	a, _ := NewAdapter(m, LoRAConfig{}, 1)
	tp, _ := m.Forward(a, [][]int{{1, 2, 3}})
	if err := m.Backward(tp, [][]float32{{1}}, nil); err == nil {
		t.Error("Backward accepted a gradient of the wrong length")
	}
	if err := m.Backward(tp, [][]float32{{1, 1}}, [][]float32{{1, 1}}); err == nil {
		t.Error("Backward accepted dValue without a value head")
	}
	base, _ := m.Forward(nil, [][]int{{1, 2, 3}})
	if err := m.Backward(base, [][]float32{{1, 1}}, nil); err == nil {
		t.Error("Backward on a base tape did not fail")
	}
	if err := m.Backward(tp, [][]float32{{-1, -1}}, nil); err != nil {
		t.Fatal(err)
	}
	a.Step(NewAdamW(1e-2, 0.9, 0.999, 1e-8, 0), 1)
	if err := m.Backward(tp, [][]float32{{-1, -1}}, nil); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Errorf("Backward on a stale tape: %v", err)
	}
}

// TestLoRAOverfit trains an adapter to memorise one sequence: the base is
// frozen and its weights must not change.
func TestLoRAOverfit(t *testing.T) {
	m := smallModel(t)
	// A freshly initialised head (std 0.02) caps every logit near ±0.6, so
	// no adapter on the frozen base could push the loss far down; a head
	// of std 1 is what a pretrained base looks like in this respect.
	for i := range m.head.w.w {
		m.head.w.w[i] *= 50
	}
	m.refresh()
	before := m.Hash()
	a, err := NewAdapter(m, LoRAConfig{Rank: 8, Targets: []string{"q", "k", "v", "o", "up", "down"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	seq := append([]int{TokBOS}, NewTokenizer().Encode("the cat sat on the mat")...)
	opt := NewAdamW(1e-2, 0.9, 0.999, 1e-8, 0)
	dl := make([]float32, len(seq)-1)
	for i := range dl {
		dl[i] = -1 / float32(len(dl))
	}
	loss := func(tp *Tape) float64 {
		var s float64
		for _, x := range tp.Logprobs[0] {
			s -= float64(x)
		}
		return s / float64(len(dl))
	}
	var first, last float64
	for step := 0; step < 150; step++ {
		tp, err := m.Forward(a, [][]int{seq})
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss(tp)
		}
		last = loss(tp)
		if err := m.Backward(tp, [][]float32{dl}, nil); err != nil {
			t.Fatal(err)
		}
		if n := a.Step(opt, 1); !(n > 0) {
			t.Fatalf("step %d: grad norm %v", step, n)
		}
		a.ZeroGrad()
	}
	t.Logf("LoRA loss %.3f → %.3f", first, last)
	if !(last < 0.2*first) {
		t.Errorf("loss fell only from %.3f to %.3f", first, last)
	}
	if m.Hash() != before {
		t.Error("adapter training changed the base weights")
	}
}

func TestPretrainOverfit(t *testing.T) {
	cfg := Config{Vocab: TokenizerVocab, DModel: 32, Layers: 2, Heads: 2, MLP: 64, Context: 32, Seed: 1}
	doc := append([]int{TokBOS}, NewTokenizer().Encode("abcabdabe")...)
	var losses []float64
	opt := PretrainOptions{Steps: 200, BatchSeqs: 2, SeqLen: len(doc), LR: 3e-3, Seed: 5,
		Progress: func(step, total int, loss float64) { losses = append(losses, loss) }}
	m, err := Pretrain(context.Background(), cfg, [][]int{doc}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 200 {
		t.Fatalf("progress called %d times", len(losses))
	}
	t.Logf("pretrain loss %.3f → %.3f", losses[0], losses[len(losses)-1])
	if !(losses[len(losses)-1] < 0.1*losses[0]) {
		t.Errorf("loss fell only from %.3f to %.3f", losses[0], losses[len(losses)-1])
	}
	opt.Progress = nil
	m2, err := Pretrain(context.Background(), cfg, [][]int{doc}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if m.Hash() != m2.Hash() {
		t.Error("pretraining is not deterministic")
	}
	if m.baseTrainable() {
		t.Error("pretrained model still carries gradients")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Pretrain(ctx, cfg, [][]int{doc}, opt); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled pretrain: %v", err)
	}
	if _, err := Pretrain(context.Background(), cfg, [][]int{{1, 999}}, opt); err == nil {
		t.Error("pretrain accepted an out-of-vocabulary token")
	}
}

func TestSaveLoad(t *testing.T) {
	m := smallModel(t)
	path := filepath.Join(t.TempDir(), "base.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Config() != m.Config() || l.Hash() != m.Hash() {
		t.Fatalf("round trip changed the model: %+v vs %+v", l.Config(), m.Config())
	}
	for i, p := range m.params() {
		if !slices.Equal(p.w, l.params()[i].w) {
			t.Fatalf("tensor %s differs after load", p.name)
		}
	}
	seqs := [][]int{{1, 2, 3, 4}}
	a, _ := m.Forward(nil, seqs)
	b, _ := l.Forward(nil, seqs)
	if !slices.Equal(a.Logprobs[0], b.Logprobs[0]) {
		t.Error("loaded model computes different logprobs")
	}
	// the file is plain safetensors with HF-style names
	data, _ := os.ReadFile(path)
	st, err := safetensors.Deserialize(data)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := st.Tensor("model.layers.1.self_attn.q_proj.weight")
	if !ok || !slices.Equal(v.Shape(), []uint64{32, 32}) {
		t.Errorf("q_proj tensor: %v %v", ok, v.Shape())
	}
	if m2, _ := New(Config{DModel: 32, Layers: 2, Heads: 4, MLP: 64, Context: 48, Seed: 8}); m2.Hash() == m.Hash() {
		t.Error("different seeds give the same hash")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing file did not fail")
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("not safetensors"), 0o644)
	if _, err := Load(bad); err == nil {
		t.Error("Load of garbage did not fail")
	}
}

func TestPEFTRoundTrip(t *testing.T) {
	m := smallModel(t)
	a := perturbedAdapter(t, m, LoRAConfig{Rank: 4, Alpha: 12, Targets: []string{"q", "v", "down"}, ValueHead: true})
	dir := filepath.Join(t.TempDir(), "adapter")
	if err := a.SavePEFT(dir, "sia-tinylm-test"); err != nil {
		t.Fatal(err)
	}
	var pc map[string]any
	js, _ := os.ReadFile(filepath.Join(dir, PEFTConfigFile))
	if err := json.Unmarshal(js, &pc); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"peft_type": "LORA", "r": 4.0, "lora_alpha": 12.0, "task_type": "CAUSAL_LM",
		"bias": "none", "fan_in_fan_out": false, "lora_dropout": 0.0, "base_model_name_or_path": "sia-tinylm-test"} {
		if pc[k] != want {
			t.Errorf("adapter_config %s = %v, want %v", k, pc[k], want)
		}
	}
	if v, ok := pc["modules_to_save"]; !ok || v != nil {
		t.Errorf("modules_to_save = %v (present %v), want null", v, ok)
	}
	if tm, _ := json.Marshal(pc["target_modules"]); string(tm) != `["q_proj","v_proj","down_proj"]` {
		t.Errorf("target_modules = %s", tm)
	}
	data, _ := os.ReadFile(filepath.Join(dir, PEFTWeightsFile))
	st, err := safetensors.Deserialize(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, shape := range map[string][]uint64{
		"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": {4, 32},
		"base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight": {32, 4},
		"base_model.model.model.layers.1.mlp.down_proj.lora_A.weight":    {4, 64},
		"base_model.model.model.layers.1.mlp.down_proj.lora_B.weight":    {32, 4},
	} {
		v, ok := st.Tensor(name)
		if !ok || !slices.Equal(v.Shape(), shape) {
			t.Errorf("%s: present %v shape %v, want %v", name, ok, v.Shape(), shape)
		}
	}
	if st.Len() != 2*2*3 {
		t.Errorf("%d tensors in adapter_model, want 12", st.Len())
	}
	b, err := LoadPEFT(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := a.params(), b.params()
	if len(pa) != len(pb) {
		t.Fatalf("%d params after load, want %d", len(pb), len(pa))
	}
	for i := range pa {
		if pa[i].name != pb[i].name || !slices.Equal(pa[i].w, pb[i].w) {
			t.Fatalf("param %s differs after load", pa[i].name)
		}
	}
	seqs := [][]int{{5, 6, 7, 8, 9}}
	ta, _ := m.Forward(a, seqs)
	tb, _ := m.Forward(b, seqs)
	if !slices.Equal(ta.Logprobs[0], tb.Logprobs[0]) || !slices.Equal(ta.Values[0], tb.Values[0]) {
		t.Error("loaded adapter computes differently")
	}
	other, _ := New(Config{Vocab: TokenizerVocab, DModel: 32, Layers: 2, Heads: 4, MLP: 64, Context: 48, Seed: 99})
	if _, err := LoadPEFT(dir, other); err == nil {
		t.Error("LoadPEFT accepted an adapter trained on another base")
	}
}

// TestSampleMatchesForward is the check the RL trainer relies on: the
// sampling logprobs (KV cache) equal Forward's logprobs (no cache) for the
// same sequence at temperature 1.
func TestSampleMatchesForward(t *testing.T) {
	m := smallModel(t)
	a := perturbedAdapter(t, m, LoRAConfig{Rank: 4, Targets: []string{"q", "k", "v", "o", "up", "down"}})
	prompt := append([]int{TokBOS, TokUser}, NewTokenizer().Encode("2+2=")...)
	for _, ad := range []*Adapter{nil, a} {
		for _, topP := range []float64{1, 0.9} {
			out, err := m.Sample(context.Background(), ad, prompt, SampleOptions{N: 5, MaxTokens: 30, Temperature: 1, TopP: topP, Seed: 42})
			if err != nil {
				t.Fatal(err)
			}
			var seqs [][]int
			for _, s := range out {
				seqs = append(seqs, append(slices.Clone(prompt), s.Tokens...))
			}
			tp, err := m.Forward(ad, seqs)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i, s := range out {
				if len(s.Tokens) != 30 || s.FinishReason != FinishLength || len(s.Logprobs) != len(s.Tokens) {
					t.Fatalf("sample %d: %d tokens, %d logprobs, %q", i, len(s.Tokens), len(s.Logprobs), s.FinishReason)
				}
				for j, lp := range s.Logprobs {
					fw := float64(tp.Logprobs[i][len(prompt)-1+j])
					if topP == 1 {
						worst = max(worst, math.Abs(lp-fw))
					} else if lp > 1e-9 || math.Abs(lp-fw) > 1e-4 {
						// T = 1: still the model's logprob, before truncation
						worst = max(worst, math.Abs(lp-fw))
					}
				}
			}
			if worst > 1e-4 {
				t.Errorf("adapter %v top_p %v: sampling logprobs differ from Forward by %g", ad != nil, topP, worst)
			}
		}
	}
}

func TestSampleDeterministicAndGreedy(t *testing.T) {
	m := smallModel(t)
	prompt := []int{TokBOS, 10, 20, 30}
	o := SampleOptions{N: 3, MaxTokens: 12, Temperature: 0.8, TopP: 0.95, Seed: 9}
	x, err := m.Sample(context.Background(), nil, prompt, o)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := m.Sample(context.Background(), nil, prompt, o)
	o.N = 1
	z, _ := m.Sample(context.Background(), nil, prompt, o)
	o.N, o.Seed = 3, 10
	w, _ := m.Sample(context.Background(), nil, prompt, o)
	for i := range x {
		if !slices.Equal(x[i].Tokens, y[i].Tokens) || !slices.Equal(x[i].Logprobs, y[i].Logprobs) {
			t.Fatalf("sample %d differs between runs with one seed", i)
		}
	}
	if !slices.Equal(x[0].Tokens, z[0].Tokens) {
		t.Error("sample 0 depends on N")
	}
	if slices.Equal(x[0].Tokens, x[1].Tokens) && slices.Equal(x[1].Tokens, x[2].Tokens) {
		t.Error("all samples identical")
	}
	if slices.Equal(x[0].Tokens, w[0].Tokens) && slices.Equal(x[1].Tokens, w[1].Tokens) {
		t.Error("a different seed gave the same samples")
	}
	// Greedy with the KV cache equals greedy by re-running the full
	// forward pass (no cache) on the growing sequence.
	g, err := m.Sample(context.Background(), nil, prompt, SampleOptions{MaxTokens: 10})
	if err != nil {
		t.Fatal(err)
	}
	seq := slices.Clone(prompt)
	V := m.cfg.Vocab
	for step := 0; step < 10; step++ {
		// The internal forward keeps the activations (Forward releases
		// an inference tape's at once).
		spans, err := m.packSpans([][]int{seq})
		if err != nil {
			t.Fatal(err)
		}
		tp := m.forward(nil, [][]int{seq}, spans)
		row := tp.logp[(len(seq)-1)*V : len(seq)*V]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if g[0].Tokens[step] != best {
			t.Fatalf("step %d: cached greedy token %d, uncached %d", step, g[0].Tokens[step], best)
		}
		if math.Abs(g[0].Logprobs[step]-float64(row[best])) > 1e-4 {
			t.Fatalf("step %d: cached logprob %v, uncached %v", step, g[0].Logprobs[step], row[best])
		}
		seq = append(seq, best)
	}
}

func TestSampleStopAndLimits(t *testing.T) {
	m := smallModel(t)
	prompt := []int{TokBOS, 1}
	// Greedy decoding's first token, used as a stop token, ends at once.
	g, _ := m.Sample(context.Background(), nil, prompt, SampleOptions{MaxTokens: 5})
	stop := g[0].Tokens[0]
	s, err := m.Sample(context.Background(), nil, prompt, SampleOptions{MaxTokens: 5, StopTokens: []int{stop}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s[0].Tokens) != 1 || s[0].FinishReason != FinishStop {
		t.Errorf("stop: %v %q", s[0].Tokens, s[0].FinishReason)
	}
	// No MaxTokens: runs to the context.
	full, _ := m.Sample(context.Background(), nil, prompt, SampleOptions{Temperature: 1, Seed: 1})
	if len(full[0].Tokens) != m.cfg.Context-len(prompt) || full[0].FinishReason != FinishLength {
		t.Errorf("context limit: %d tokens, %q", len(full[0].Tokens), full[0].FinishReason)
	}
	for name, o := range map[string]SampleOptions{
		"temperature": {Temperature: -1}, "top_p": {TopP: 1.5}, "n": {N: -2},
	} {
		if _, err := m.Sample(context.Background(), nil, prompt, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := m.Sample(context.Background(), nil, make([]int, 48), SampleOptions{}); err == nil {
		t.Error("prompt filling the context: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Sample(ctx, nil, prompt, SampleOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestStepAndClone(t *testing.T) {
	m := smallModel(t)
	a, _ := NewAdapter(m, LoRAConfig{Rank: 4, ValueHead: true}, 1)
	c := a.Clone()
	tp, _ := m.Forward(a, [][]int{{1, 2, 3, 4}})
	if err := m.Backward(tp, [][]float32{{1, 1, 1}}, [][]float32{{1, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	want := gradNorm(a.params())
	opt := NewAdamW(1e-3, 0.9, 0.999, 1e-8, 0)
	if got := a.Step(opt, 1e-3); math.Abs(got-want) > 1e-9 || !(got > 1e-3) {
		t.Errorf("Step returned %v, want the pre-clip norm %v", got, want)
	}
	if opt.Steps() != 1 {
		t.Errorf("optimizer steps %d", opt.Steps())
	}
	// Adam's first step moves every weight with a non-zero gradient by
	// about lr, whatever the clipping.
	moved := 0
	for i, p := range a.params() {
		for j := range p.w {
			if p.w[j] != c.params()[i].w[j] {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Fatal("Step did not move any weight")
	}
	a.ZeroGrad()
	if gradNorm(a.params()) != 0 {
		t.Error("ZeroGrad left gradients")
	}
	if gradNorm(c.params()) != 0 || c.NumParams() != a.NumParams() {
		t.Error("clone shares state with the original")
	}
}
