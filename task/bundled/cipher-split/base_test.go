package ciphersplit

import (
	"testing"

	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/tinylm"
)

// shippedBase returns the base sia uses for this task (embedded.BaseFor on
// Corpus(0) and DemoBase, as the embedded backend calls it), copied into a
// temporary cache, and its path there. The base ships with sia
// (llm/embedded/bases, `go run ./llm/embedded/internal/mkbase -tasks
// cipher-split`), so nothing is pretrained; if the corpus changes and the
// shipped base no longer matches, the test fails rather than pretrain for
// minutes.
func shippedBase(t *testing.T) (*tinylm.Model, string) {
	t.Helper()
	corpus, err := embedded.EncodeCorpus(Corpus(0))
	if err != nil {
		t.Fatal(err)
	}
	pretrained := false
	base, path, err := embedded.BaseFor(t.Context(), Name, corpus, embedded.DemoBase(), t.TempDir(), func(int, int, float64) { pretrained = true })
	if err != nil {
		t.Fatal(err)
	}
	if pretrained {
		t.Fatal("no shipped base matches cipher-split's corpus: run go run ./llm/embedded/internal/mkbase -tasks cipher-split")
	}
	return base, path
}
