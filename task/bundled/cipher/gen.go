package cipher

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
)

// Sizes of the generated world.
const (
	TrainWords  = 192  // labelled: word and its translation
	ValWords    = 64   // the loop's selection signal
	TestWords   = 96   // held out
	CorpusWords = 3000 // other words the base model saw translated
)

var (
	consonants = []byte("bdfgklmnprstvz")
	vowels     = "aeiou"
	// shifted is the habit: each vowel read as the next one (a→e … u→a).
	shifted = "eioua"
)

// World is the generated task: the secret script, and the words of each
// split and of the pretraining corpus, all distinct.
type World struct {
	Seed int64
	// Script maps each letter a–z to the letter it is written as.
	Script                  [26]byte
	Train, Val, Test, Other []string
}

// NewWorld generates the world for seed; the same seed gives the same world.
func NewWorld(seed int64) *World {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc1f3))
	w := &World{Seed: seed}
	for i, p := range rng.Perm(26) {
		w.Script[i] = byte('a' + p)
	}
	seen := map[string]bool{}
	take := func(n int) []string {
		out := make([]string, 0, n)
		for len(out) < n {
			if x := newWord(rng); !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
		return out
	}
	w.Train, w.Val, w.Test, w.Other = take(TrainWords), take(ValWords), take(TestWords), take(CorpusWords)
	return w
}

// newWord draws a pseudo-word of two or three CV syllables and an optional
// final consonant: four to seven letters.
func newWord(rng *rand.Rand) string {
	var b []byte
	for s := 0; s < 2+rng.IntN(2); s++ {
		b = append(b, consonants[rng.IntN(len(consonants))], vowels[rng.IntN(len(vowels))])
	}
	if rng.IntN(2) == 0 {
		b = append(b, consonants[rng.IntN(len(consonants))])
	}
	return string(b)
}

// Write returns word in the secret script, the gold answer.
func (w *World) Write(word string) string { return w.write(word, false) }

// careless writes word with the habit: every vowel shifted before it is
// written. The result has the right length and script, so no check that
// does not know the script can tell it from the right answer.
func (w *World) careless(word string) string { return w.write(word, true) }

func (w *World) write(word string, habit bool) string {
	b := []byte(word)
	for i, c := range b {
		if c < 'a' || c > 'z' {
			continue
		}
		if j := strings.IndexByte(vowels, c); habit && j >= 0 {
			c = shifted[j]
		}
		b[i] = w.Script[c-'a']
	}
	return string(b)
}

// CorpusOptions shape the pretraining corpus. Zero values take defaults.
type CorpusOptions struct {
	// HabitRate is the share of translations in the corpus written with the
	// habit (default 0.6). Above one half, the habit is the model's most
	// likely answer, so sampling more answers and voting keeps it; a
	// negative value turns it off.
	HabitRate float64
	// ArrowHabitRate is the habit's share in chats that use the rarer
	// "word ->" wording (default 0.9): its scribes were the most careless,
	// so the wording a harness picks matters.
	ArrowHabitRate float64
	// SlipRate is the share of translations with one letter written at
	// random (default 0.2): careless noise that voting does remove.
	SlipRate float64
}

func (o *CorpusOptions) applyDefaults() {
	if o.HabitRate == 0 {
		o.HabitRate = 0.6
	}
	if o.ArrowHabitRate == 0 {
		o.ArrowHabitRate = 0.9
	}
	if o.SlipRate == 0 {
		o.SlipRate = 0.2
	}
}

// Corpus is the pretraining text: one chat per corpus and train word (0–4
// solved examples, then the question, in both prompt wordings), never a val
// or test word. It teaches the script as a procedure, with the habit.
func (w *World) Corpus(opt CorpusOptions) [][]llm.Message {
	opt.applyDefaults()
	rng := rand.New(rand.NewPCG(uint64(w.Seed), 0xc0de))
	answer := func(word string, careless bool) string {
		a := w.Write(word)
		if careless {
			a = w.careless(word)
		}
		if rng.Float64() < opt.SlipRate {
			b := []byte(a)
			b[rng.IntN(len(b))] = byte('a' + rng.IntN(26))
			a = string(b)
		}
		return a
	}
	words := append(append([]string(nil), w.Other...), w.Train...)
	docs := make([][]llm.Message, 0, len(words))
	for _, x := range words {
		variant := VariantTr
		if rng.IntN(4) == 0 {
			variant = VariantArrow
		}
		// A chat is written by one scribe, careless or not, so solved
		// examples written right make a right answer more likely.
		rate := opt.HabitRate
		if variant == VariantArrow {
			rate = opt.ArrowHabitRate
		}
		careless := rng.Float64() < rate
		var msgs []llm.Message
		for range rng.IntN(5) {
			y := w.Other[rng.IntN(len(w.Other))]
			msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: Prompt(variant, y)}, llm.Message{Role: llm.RoleAssistant, Content: answer(y, careless)})
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: Prompt(variant, x)}, llm.Message{Role: llm.RoleAssistant, Content: answer(x, careless)})
		docs = append(docs, msgs)
	}
	rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	return docs
}

// Prompt variants: the corpus uses "tr: word" three times as often as
// "word ->", so which one a harness sends matters.
const (
	VariantArrow = "arrow"
	VariantTr    = "tr"
)

// Prompt renders one question in a variant.
func Prompt(variant, word string) string {
	if variant == VariantTr {
		return "tr: " + word
	}
	return word + " ->"
}

// Files renders the world as the task's data folder: public/ holds train
// with translations and val and test without; private/ the val and test
// gold the verifier reads.
func (w *World) Files() (fs.FS, error) {
	records := func(prefix string, words []string, withWord, withGold bool) []map[string]string {
		out := make([]map[string]string, len(words))
		for i, x := range words {
			out[i] = map[string]string{"id": fmt.Sprintf("%s-%03d", prefix, i)}
			if withWord {
				out[i]["word"] = x
			}
			if withGold {
				out[i]["script"] = w.Write(x)
			}
		}
		return out
	}
	return task.JSONLFiles(map[string][]map[string]string{
		"public/train.jsonl": records("train", w.Train, true, true),
		"public/val.jsonl":   records("val", w.Val, true, false),
		"public/test.jsonl":  records("test", w.Test, true, false),
		"private/val.jsonl":  records("val", w.Val, false, true),
		"private/test.jsonl": records("test", w.Test, false, true),
	})
}
