package demo

import (
	"fmt"
	"math/rand/v2"

	"github.com/sia-agent/sia/llm"
)

// Prompt variants. The reference harness renders exactly these strings
// (reference/harness.star); the pretraining corpus covers both, "fill" three
// times as often as "cloze", so which variant a harness uses matters.
const (
	VariantCloze = "cloze"
	VariantFill  = "fill"
)

// Variants lists the prompt variants.
var Variants = []string{VariantCloze, VariantFill}

// Prompt renders one question in a variant.
func Prompt(variant, pattern string) (string, error) {
	switch variant {
	case VariantFill:
		return "fill: " + pattern, nil
	case VariantCloze:
		return pattern + " ?", nil
	}
	return "", fmt.Errorf("unknown prompt variant %q (want cloze or fill)", variant)
}

// Shot is one solved example shown before the question.
type Shot struct{ Pattern, Word string }

// Messages renders a question with few-shot examples as a chat: each shot is
// a user turn and the assistant's answer, then the question.
func Messages(variant, pattern string, shots []Shot) ([]llm.Message, error) {
	var out []llm.Message
	for _, s := range shots {
		q, err := Prompt(variant, s.Pattern)
		if err != nil {
			return nil, err
		}
		out = append(out, llm.Message{Role: llm.RoleUser, Content: q}, llm.Message{Role: llm.RoleAssistant, Content: s.Word})
	}
	q, err := Prompt(variant, pattern)
	if err != nil {
		return nil, err
	}
	return append(out, llm.Message{Role: llm.RoleUser, Content: q}), nil
}

// CorpusOptions size the pretraining corpus. Zero values take defaults.
type CorpusOptions struct {
	// MasksPerWord is how many restoration examples each lexicon word gets
	// (default 12). None of them uses a val or test pattern.
	MasksPerWord int
	// ListDocs is how many word-list documents the corpus holds (default 200).
	ListDocs int
	// SloppyRate is the share of restoration answers in the corpus that
	// come with one hidden letter miscopied (default 0.35). It gives the base
	// model a habit that holds for every word — careless answers — which
	// reward can train away and which transfers to words never trained on.
	// The miscopied letter sits at a hidden position, so a pattern check
	// cannot see it; a negative value turns the habit off.
	SloppyRate float64
}

func (o *CorpusOptions) applyDefaults() {
	if o.MasksPerWord == 0 {
		o.MasksPerWord = 12
	}
	if o.ListDocs == 0 {
		o.ListDocs = 200
	}
	if o.SloppyRate == 0 {
		o.SloppyRate = 0.35
	}
}

// Corpus is the demo's pretraining text: the "world knowledge" a real model
// would bring. It holds restoration chats for every lexicon word (random
// masks, never a val or test pattern, with 0–4 shots, both variants) and
// word lists, the chat turns a harness can send. It is deterministic for the
// world and options, and is never shown to a harness or an agent: the train
// split is the only labelled data they see.
func (w *World) Corpus(opt CorpusOptions) [][]llm.Message {
	opt.applyDefaults()
	rng := rand.New(rand.NewPCG(uint64(w.Seed), 0xc0de))
	held := w.heldOutPatterns()
	var docs [][]llm.Message
	for _, word := range w.Lexicon {
		for k := 0; k < opt.MasksPerWord; k++ {
			p, ok := randomPattern(rng, word, held)
			if !ok {
				continue
			}
			variant := VariantFill
			if rng.IntN(4) == 0 {
				variant = VariantCloze
			}
			shots := make([]Shot, rng.IntN(5))
			for i := range shots {
				sw := w.Lexicon[rng.IntN(len(w.Lexicon))]
				sp, ok := randomPattern(rng, sw, held)
				if !ok {
					sp = sw
				}
				shots[i] = Shot{Pattern: sp, Word: sw}
			}
			msgs, _ := Messages(variant, p, shots) // variants are known-good
			answer := word
			if rng.Float64() < opt.SloppyRate {
				answer = miscopy(rng, p, word)
			}
			docs = append(docs, append(msgs, llm.Message{Role: llm.RoleAssistant, Content: answer}))
		}
	}
	for d := 0; d < opt.ListDocs; d++ {
		n := 6 + rng.IntN(6)
		words := make([]byte, 0, 64)
		for i := 0; i < n; i++ {
			if i > 0 {
				words = append(words, ' ')
			}
			words = append(words, w.Lexicon[rng.IntN(len(w.Lexicon))]...)
		}
		docs = append(docs, []llm.Message{{Role: llm.RoleUser, Content: "words"}, {Role: llm.RoleAssistant, Content: string(words)}})
	}
	rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	return docs
}

// miscopy changes one letter of word at a position pattern hides, to
// another letter: the answer still fits the pattern, but is not the word.
func miscopy(rng *rand.Rand, pattern, word string) string {
	var hidden []int
	for i := range len(pattern) {
		if pattern[i] == Mask {
			hidden = append(hidden, i)
		}
	}
	if len(hidden) == 0 {
		return word
	}
	b := []byte(word)
	i := hidden[rng.IntN(len(hidden))]
	c := byte('a' + rng.IntN(25))
	if c >= b[i] {
		c++ // any letter but the right one
	}
	b[i] = c
	return string(b)
}

// randomPattern hides a random third to two thirds of word's letters; it
// fails (ok false) rather than return a held-out pattern.
func randomPattern(rng *rand.Rand, word string, held map[string]bool) (string, bool) {
	n := len(word)
	for try := 0; try < 10; try++ {
		hide := n/3 + rng.IntN(n/3+1)
		hide = max(1, min(hide, n-1))
		b := []byte(word)
		for _, i := range rng.Perm(n)[:hide] {
			b[i] = Mask
		}
		if p := string(b); !held[p] {
			return p, true
		}
	}
	return "", false
}
