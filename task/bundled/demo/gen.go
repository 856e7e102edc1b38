package demo

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sort"

	"github.com/sia-agent/sia/task"
)

// Sizes of the generated world. The lexicon is the model's "world
// knowledge": every word appears in the pretraining corpus, but only the
// train words appear in any file a harness can read.
const (
	TrainWords   = 96 // words whose items (pattern, word) are public, labelled
	ValWords     = 64 // one val item each
	TestWords    = 96 // one test item each
	TrainPerWord = 2  // train items per train word
	// Mask is the character that hides a letter in a pattern.
	Mask = '_'
)

var (
	consonants = []byte("bdfgklmnprstvz")
	vowels     = []byte("aeiou")
)

// World is the generated task: the lexicon and the items of each split.
type World struct {
	Seed    int64
	Lexicon []string // all words, in generation order
	Train   []Item
	Val     []Item
	Test    []Item
}

// Item is one restoration problem: Pattern is Word with some letters
// replaced by Mask, and no other lexicon word fits it.
type Item struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Word    string `json:"word"` // the gold answer
}

// NewWorld generates the world for seed. The same seed always gives the same
// world.
func NewWorld(seed int64) *World {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xde30))
	n := TrainWords + ValWords + TestWords
	seen := map[string]bool{}
	lex := make([]string, 0, n)
	for len(lex) < n {
		w := newWord(rng)
		if !seen[w] {
			seen[w] = true
			lex = append(lex, w)
		}
	}
	w := &World{Seed: seed, Lexicon: lex}
	trainW := lex[:TrainWords]
	valW := lex[TrainWords : TrainWords+ValWords]
	testW := lex[TrainWords+ValWords:]
	used := map[string]bool{}
	for i, word := range trainW {
		for k := 0; k < TrainPerWord; k++ {
			p := uniquePattern(rng, word, lex, used)
			w.Train = append(w.Train, Item{ID: fmt.Sprintf("train-%04d", i*TrainPerWord+k), Pattern: p, Word: word})
		}
	}
	for i, word := range valW {
		w.Val = append(w.Val, Item{ID: fmt.Sprintf("val-%03d", i), Pattern: uniquePattern(rng, word, lex, used), Word: word})
	}
	for i, word := range testW {
		w.Test = append(w.Test, Item{ID: fmt.Sprintf("test-%03d", i), Pattern: uniquePattern(rng, word, lex, used), Word: word})
	}
	return w
}

// newWord draws a pseudo-word of two syllables (CV or CVC), four to six
// letters.
func newWord(rng *rand.Rand) string {
	var b []byte
	syl := 2
	for s := 0; s < syl; s++ {
		b = append(b, consonants[rng.IntN(len(consonants))], vowels[rng.IntN(len(vowels))])
		if rng.IntN(3) == 0 {
			b = append(b, consonants[rng.IntN(len(consonants))])
		}
	}
	return string(b)
}

// Fits reports whether word fits pattern: same length, and every shown
// letter agrees. It is what a harness can check without knowing the answer.
func Fits(pattern, word string) bool {
	if len(pattern) != len(word) {
		return false
	}
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != Mask && pattern[i] != word[i] {
			return false
		}
	}
	return true
}

// uniquePattern hides two letters of word (one when two leave it
// ambiguous) so that no other lexicon word fits and the pattern is not
// already used.
func uniquePattern(rng *rand.Rand, word string, lex []string, used map[string]bool) string {
	n := len(word)
	for hide := 2; hide >= 1; hide-- {
		for try := 0; try < 20; try++ {
			b := []byte(word)
			for _, i := range rng.Perm(n)[:hide] {
				b[i] = Mask
			}
			p := string(b)
			if used[p] || fitsOther(p, word, lex) {
				continue
			}
			used[p] = true
			return p
		}
	}
	// Showing the whole word is always unique in a lexicon without duplicates.
	used[word] = true
	return word
}

func fitsOther(p, word string, lex []string) bool {
	for _, w := range lex {
		if w != word && Fits(p, w) {
			return true
		}
	}
	return false
}

// Files renders the world as the task's data folder: public/ holds what
// harnesses and agents may read (train with labels, val and test without),
// private/ the val and test gold the verifier reads.
func (w *World) Files() (fs.FS, error) {
	records := func(items []Item, withWord, withPattern bool) []map[string]string {
		out := make([]map[string]string, len(items))
		for i, it := range items {
			out[i] = map[string]string{"id": it.ID}
			if withPattern {
				out[i]["pattern"] = it.Pattern
			}
			if withWord {
				out[i]["word"] = it.Word
			}
		}
		return out
	}
	return task.JSONLFiles(map[string][]map[string]string{
		"public/train.jsonl": records(w.Train, true, true),
		"public/val.jsonl":   records(w.Val, false, true),
		"public/test.jsonl":  records(w.Test, false, true),
		"private/val.jsonl":  records(w.Val, true, false),
		"private/test.jsonl": records(w.Test, true, false),
	})
}

// heldOutPatterns is the set of val and test patterns: the corpus never
// contains one of them.
func (w *World) heldOutPatterns() map[string]bool {
	out := map[string]bool{}
	for _, it := range append(append([]Item(nil), w.Val...), w.Test...) {
		out[it.Pattern] = true
	}
	return out
}

// sortedCopy returns words sorted, for listings that must not leak split
// membership through order.
func sortedCopy(words []string) []string {
	out := append([]string(nil), words...)
	sort.Strings(out)
	return out
}
