package budget

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/llmtest"
)

func TestBundledPricesParse(t *testing.T) {
	p, err := ParsePrices(bundledPrices)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() < 10 {
		t.Errorf("bundled table has %d models", p.Len())
	}
}

func TestLookup(t *testing.T) {
	p := Bundled()
	tests := []struct {
		model string
		want  string // matched entry, "" = none
	}{
		{"claude-sonnet-4-5", "claude-sonnet-4-5"},
		{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"},
		{"gpt-4.1-2025-04-14", "gpt-4.1"},
		{"openai/gpt-4o-mini", "gpt-4o-mini"},
		{"gpt-4.1-turbo", ""}, // no prefix guessing: a different model
		{"llama3.1:8b", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := p.Lookup(tt.model)
		if ok != (tt.want != "") || got.Model != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.model, got.Model, ok, tt.want)
		}
	}
}

func TestCost(t *testing.T) {
	p := Price{InputPerMTok: 3, OutputPerMTok: 15}
	got := p.Cost(llm.Usage{PromptTokens: 2000, CompletionTokens: 500})
	if want := 0.006 + 0.0075; math.Abs(got-want) > 1e-12 {
		t.Errorf("Cost = %g, want %g", got, want)
	}
}

func TestParsePricesErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"wrong version", `{"format_version":2,"models":[]}`, "format_version 2"},
		{"unknown field", `{"format_version":1,"models":[{"model":"m","input":1}]}`, "unknown field"},
		{"no model", `{"format_version":1,"models":[{"input_usd_per_mtok":1}]}`, "entry 0 has no model"},
		{"negative", `{"format_version":1,"models":[{"model":"m","input_usd_per_mtok":-1}]}`, "negative"},
		{"duplicate", `{"format_version":1,"models":[{"model":"m"},{"model":"m"}]}`, "listed twice"},
		{"not json", `{`, "parse prices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePrices([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadPricesUserOverride(t *testing.T) {
	dir := t.TempDir()
	p, err := LoadPrices(dir) // no file: bundled only
	if err != nil || p.Len() != Bundled().Len() {
		t.Fatalf("LoadPrices(empty dir) = %v, %v", p, err)
	}
	doc := `{"format_version":1,"models":[{"model":"gpt-4.1","input_usd_per_mtok":1,"output_usd_per_mtok":1},{"model":"qwen2.5:7b","input_usd_per_mtok":0,"output_usd_per_mtok":0}]}`
	if err := os.WriteFile(filepath.Join(dir, UserPricesFile), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = LoadPrices(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Lookup("gpt-4.1"); got.InputPerMTok != 1 {
		t.Errorf("user price did not override: %+v", got)
	}
	if _, ok := p.Lookup("qwen2.5:7b"); !ok {
		t.Error("user model missing")
	}
	if _, ok := p.Lookup("claude-haiku-4-5"); !ok {
		t.Error("bundled model lost in the merge")
	}
	if err := os.WriteFile(filepath.Join(dir, UserPricesFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrices(dir); err == nil || !strings.Contains(err.Error(), UserPricesFile) {
		t.Errorf("broken user file: err = %v", err)
	}
}

// usageModel answers every call with the given usage and model name.
func usageModel(model string, u llm.Usage) *llmtest.Model {
	return llmtest.New(model, func(int, llm.Request) (*llm.Completion, error) {
		c := llmtest.Text("ok")
		c.Model = model
		c.Usage = u
		return c, nil
	})
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name      string
		limits    Limits
		model     string
		usage     llm.Usage
		wantCalls int    // calls that succeed before refusal
		wantErr   string // in the refusal
	}{
		{"tokens", Limits{Tokens: 250}, "claude-haiku-4-5", llm.Usage{PromptTokens: 80, CompletionTokens: 20}, 3, "used 300 of 250 tokens"},
		// claude-sonnet-4-5: 1000*3/1e6 + 1000*15/1e6 = $0.018 per call.
		{"dollars", Limits{USD: 0.05}, "claude-sonnet-4-5-20250929", llm.Usage{PromptTokens: 1000, CompletionTokens: 1000}, 3, "spent $0.0540 of $0.05"},
		{"provider-reported cost counts", Limits{USD: 0.01}, "unknown-model", llm.Usage{PromptTokens: 1, CompletionTokens: 1, CostUSD: 0.004}, 3, "spent $0.0120 of $0.01"},
		{"no limits", Limits{}, "x", llm.Usage{PromptTokens: 1e6}, 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(tt.limits, nil)
			if err != nil {
				t.Fatal(err)
			}
			inner := usageModel(tt.model, tt.usage)
			m := b.Wrap(inner, tt.model)
			var refusal error
			ok := 0
			for range 10 {
				_, err := m.Chat(t.Context(), llm.Request{})
				if err != nil {
					refusal = err
					break
				}
				ok++
			}
			if ok != tt.wantCalls {
				t.Errorf("%d calls succeeded, want %d", ok, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if refusal != nil {
					t.Fatalf("unexpected refusal %v", refusal)
				}
				return
			}
			if !errors.Is(refusal, ErrBudget) || !strings.Contains(refusal.Error(), tt.wantErr) {
				t.Fatalf("refusal = %v, want ErrBudget with %q", refusal, tt.wantErr)
			}
			if len(inner.Calls()) != tt.wantCalls {
				t.Errorf("inner model saw %d calls after refusal, want %d", len(inner.Calls()), tt.wantCalls)
			}
		})
	}
}

func TestCostFilledAndUnpriced(t *testing.T) {
	b, _ := New(Limits{}, nil)
	c, err := b.Wrap(usageModel("gpt-4o-mini", llm.Usage{PromptTokens: 1_000_000, CompletionTokens: 1_000_000}), "").Chat(t.Context(), llm.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Usage.CostUSD-0.75) > 1e-9 {
		t.Errorf("CostUSD = %g, want 0.75", c.Usage.CostUSD)
	}
	if _, err := b.Wrap(usageModel("mystery", llm.Usage{PromptTokens: 5}), "").Chat(t.Context(), llm.Request{}); err != nil {
		t.Fatal(err)
	}
	if got := b.Unpriced(); len(got) != 1 || got[0] != "mystery" {
		t.Errorf("Unpriced = %v", got)
	}
	if s := b.Spent(); s.PromptTokens != 1_000_005 || math.Abs(s.CostUSD-0.75) > 1e-9 || b.Calls() != 2 {
		t.Errorf("Spent = %+v after %d calls", s, b.Calls())
	}
}

func TestCheck(t *testing.T) {
	withUSD, _ := New(Limits{USD: 1}, nil)
	tokensOnly, _ := New(Limits{Tokens: 10}, nil)
	if err := withUSD.Check("claude-sonnet-4-5"); err != nil {
		t.Errorf("priced model: %v", err)
	}
	if err := withUSD.Check("llama3"); err == nil || !strings.Contains(err.Error(), `"llama3"`) {
		t.Errorf("unpriced model under a dollar limit: err = %v", err)
	}
	if err := tokensOnly.Check("llama3"); err != nil {
		t.Errorf("token limit needs no price: %v", err)
	}
	if _, err := New(Limits{USD: -1}, nil); err == nil {
		t.Error("negative limit accepted")
	}
}

func TestInnerErrorsAreNotCharged(t *testing.T) {
	b, _ := New(Limits{Tokens: 10}, nil)
	boom := errors.New("boom")
	m := b.Wrap(llm.ModelFunc(func(context.Context, llm.Request) (*llm.Completion, error) { return nil, boom }), "m")
	if _, err := m.Chat(t.Context(), llm.Request{}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b.Calls() != 0 {
		t.Errorf("failed call counted")
	}
}

func TestConcurrentCharging(t *testing.T) {
	b, _ := New(Limits{}, nil)
	m := b.Wrap(usageModel("gpt-4.1", llm.Usage{PromptTokens: 3, CompletionTokens: 2}), "")
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 10 {
				if _, err := m.Chat(context.Background(), llm.Request{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if s := b.Spent(); s.PromptTokens != 960 || s.CompletionTokens != 640 || b.Calls() != 320 {
		t.Errorf("Spent = %+v, calls %d", s, b.Calls())
	}
}
