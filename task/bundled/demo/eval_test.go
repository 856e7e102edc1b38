package demo

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/tinylm"
)

// TestPretrainSpeed is a measurement, run by hand:
// SIA_DEMO_EVAL=1 go test ./task/bundled/demo -run PretrainSpeed -v
func TestPretrainSpeed(t *testing.T) {
	if os.Getenv("SIA_DEMO_EVAL") == "" {
		t.Skip("measurement; set SIA_DEMO_EVAL=1")
	}
	docs, err := embedded.EncodeCorpus(Corpus(1))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range docs {
		n += len(d)
	}
	cfg := embedded.DemoBase()
	steps, _ := strconv.Atoi(os.Getenv("STEPS"))
	if steps == 0 {
		steps = 30
	}
	cfg.Pretrain.Steps = steps
	start := time.Now()
	_, err = tinylm.Pretrain(context.Background(), cfg.Model, docs, cfg.Pretrain)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	tok := steps * cfg.Pretrain.BatchSeqs * cfg.Pretrain.SeqLen
	fmt.Printf("corpus %d docs %d tokens; %d steps %d tokens in %v: %.0f tok/s\n", len(docs), n, steps, tok, el, float64(tok)/el.Seconds())
}
