package embedded

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/tinylm"
)

func tiny(t *testing.T) *tinylm.Model {
	t.Helper()
	m, err := tinylm.New(tinylm.Config{DModel: 32, Layers: 1, Heads: 2, MLP: 64, Context: 64, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ptr[T any](v T) *T { return &v }

func TestEncodeChat(t *testing.T) {
	ids, err := EncodeChat([]llm.Message{{Role: "system", Content: "s"}, {Role: "user", Content: "hi"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{tinylm.TokBOS, tinylm.TokSystem, 's', tinylm.TokEndTurn, tinylm.TokUser, 'h', 'i', tinylm.TokEndTurn, tinylm.TokAssistant}
	if !slices.Equal(ids, want) {
		t.Errorf("EncodeChat = %v, want %v", ids, want)
	}
	docs, err := EncodeCorpus([][]llm.Message{{{Role: "user", Content: "a"}, {Role: "assistant", Content: "b"}}})
	if err != nil || !slices.Equal(docs[0], []int{tinylm.TokBOS, tinylm.TokUser, 'a', tinylm.TokEndTurn, tinylm.TokAssistant, 'b', tinylm.TokEndTurn}) {
		t.Errorf("EncodeCorpus = %v, %v", docs, err)
	}
	if _, err := EncodeChat([]llm.Message{{Role: "robot", Content: "x"}}, false); err == nil {
		t.Error("unknown role gave no error")
	}
}

func TestChat(t *testing.T) {
	m, err := New(tiny(t), Config{Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	req := llm.Request{Messages: []llm.Message{{Role: "user", Content: "fill: k_rb_l"}}, N: 3, MaxTokens: 8, Temperature: ptr(1.0), Seed: ptr(int64(7))}
	c, err := m.Chat(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	prompt, _ := EncodeChat(req.Messages, true)
	if !slices.Equal(c.PromptTokenIDs, prompt) || c.Model != "tiny" || c.AdapterVersion != 0 || len(c.Choices) != 3 {
		t.Fatalf("completion %+v", c)
	}
	total := 0
	for i, ch := range c.Choices {
		if len(ch.TokenIDs) == 0 || len(ch.TokenIDs) > 8 || len(ch.Logprobs) != len(ch.TokenIDs) {
			t.Errorf("choice %d: %d ids, %d logprobs", i, len(ch.TokenIDs), len(ch.Logprobs))
		}
		for _, lp := range ch.Logprobs {
			if !(lp <= 0) {
				t.Errorf("choice %d: logprob %v", i, lp)
			}
		}
		if ch.FinishReason != "stop" && ch.FinishReason != "length" {
			t.Errorf("finish %q", ch.FinishReason)
		}
		total += len(ch.TokenIDs)
	}
	if c.Usage.PromptTokens != len(prompt) || c.Usage.CompletionTokens != total {
		t.Errorf("usage %+v", c.Usage)
	}
	// The stored logprobs are what Forward computes for the same tokens at T=1.
	ch := c.Choices[0]
	tape, err := m.Base().Forward(nil, [][]int{append(slices.Clone(prompt), ch.TokenIDs...)})
	if err != nil {
		t.Fatal(err)
	}
	for j, lp := range ch.Logprobs {
		if d := lp - float64(tape.Logprobs[0][len(prompt)-1+j]); d > 1e-4 || d < -1e-4 {
			t.Fatalf("token %d: sampled logprob %v, forward %v", j, lp, tape.Logprobs[0][len(prompt)-1+j])
		}
	}
	// Same seed, same samples; concurrent calls are safe.
	var wg sync.WaitGroup
	got := make([]*llm.Completion, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = m.Chat(t.Context(), req)
		}()
	}
	wg.Wait()
	for i, g := range got {
		if g == nil || !slices.Equal(g.Choices[2].TokenIDs, c.Choices[2].TokenIDs) {
			t.Errorf("call %d: seeded sampling differs", i)
		}
	}
}

func TestStopStrings(t *testing.T) {
	m, _ := New(tiny(t), Config{})
	req := llm.Request{Messages: []llm.Message{{Role: "user", Content: "x"}}, MaxTokens: 30, Seed: ptr(int64(1)), Temperature: ptr(1.0)}
	c, err := m.Chat(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	text := c.Text()
	if len(text) < 3 {
		t.Skipf("sample %q too short to cut", text)
	}
	stop := text[1:3]
	req.Stop = []string{stop}
	c2, err := m.Chat(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	ch := c2.Choices[0]
	cut := strings.Index(text, stop)
	if ch.Message.Content != text[:cut] || ch.FinishReason != "stop" || len(ch.TokenIDs) != len(ch.Logprobs) {
		t.Errorf("stop %q: got %q (%s, %d ids), want %q", stop, ch.Message.Content, ch.FinishReason, len(ch.TokenIDs), text[:cut])
	}
}

func TestChatErrorsAndAdapter(t *testing.T) {
	base := tiny(t)
	m, _ := New(base, Config{})
	msgs := []llm.Message{{Role: "user", Content: "q"}}
	bad := []struct {
		name string
		req  llm.Request
	}{
		{"no messages", llm.Request{}},
		{"tools", llm.Request{Messages: msgs, Tools: []llm.Tool{{Name: "x"}}}},
		{"too long", llm.Request{Messages: []llm.Message{{Role: "user", Content: strings.Repeat("x", 80)}}}},
		{"top_p", llm.Request{Messages: msgs, TopP: ptr(1.5)}},
		{"temperature", llm.Request{Messages: msgs, Temperature: ptr(-1.0)}},
	}
	for _, b := range bad {
		if _, err := m.Chat(t.Context(), b.req); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
	ad, err := tinylm.NewAdapter(base, tinylm.LoRAConfig{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m2 := m.WithAdapter(ad, 3)
	if m.AdapterVersion() != 0 || m.Adapter() != nil || m2.AdapterVersion() != 3 {
		t.Fatal("WithAdapter changed the original or lost the version")
	}
	c, err := m2.Chat(t.Context(), llm.Request{Messages: msgs, MaxTokens: 2, Seed: ptr(int64(1))})
	if err != nil || c.AdapterVersion != 3 {
		t.Errorf("adapter chat: %v, version %d", err, c.AdapterVersion)
	}
}

func TestBaseForCacheHit(t *testing.T) {
	dir := t.TempDir()
	corpus := [][]int{{tinylm.TokBOS, 'a', 'b'}}
	cfg := BaseConfig{Model: tinylm.Config{DModel: 32, Layers: 1, Heads: 2, MLP: 64, Context: 64, Seed: 2}}
	if CacheKey(corpus, cfg) == CacheKey([][]int{{tinylm.TokBOS, 'a', 'c'}}, cfg) {
		t.Fatal("cache key ignores the corpus")
	}
	cfg2 := cfg
	cfg2.Pretrain.Steps = 9
	if CacheKey(corpus, cfg) == CacheKey(corpus, cfg2) {
		t.Fatal("cache key ignores the pretraining schedule")
	}
	// A checkpoint already in the cache is loaded, not retrained.
	want := tiny(t)
	path := filepath.Join(dir, "demo-"+CacheKey(corpus, cfg)[:16]+".safetensors")
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	called := false
	got, p, err := BaseFor(t.Context(), "demo", corpus, cfg, dir, func(int, int, float64) { called = true })
	if err != nil {
		t.Fatal(err)
	}
	if p != path || called || got.Hash() != want.Hash() {
		t.Errorf("cache hit: path %s, pretrained %v, hash match %v", p, called, got.Hash() == want.Hash())
	}
	// A corrupt cache file is an error that says what to do.
	if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := BaseFor(t.Context(), "demo", corpus, cfg, dir, nil); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("corrupt cache: %v", err)
	}
}
