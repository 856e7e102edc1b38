package ciphersplit

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
)

// Sizes of the generated world.
const (
	TrainWords  = 192  // labelled: word and its translation; no unseen letter
	ValWords    = 64   // the loop's selection signal
	TestWords   = 96   // held out
	CorpusWords = 3000 // other words the base model saw translated
	// UnseenLetters is how many consonants never occur in a train word:
	// only the model knows their script.
	UnseenLetters = 4
	// TrainOnlyLetters is how many consonants never occur in the model's
	// pretraining corpus: only the train pairs show their script.
	TrainOnlyLetters = 3
	// UnseenShare is the share of val and test words that end in an unseen
	// letter: the part of the answer no code can learn from train.
	UnseenShare = 0.6
)

var (
	consonants = "bdfgklmnprstvz"
	vowels     = "aeiou"
)

// World is the generated task: the secret script, the letters only the
// model or only train knows, and the words of each split and of the
// pretraining corpus, all distinct.
type World struct {
	Seed int64
	// Script maps each letter a–z to the letter it is written as.
	Script [26]byte
	// Unseen holds the consonants no train word contains, in alphabetical
	// order. In val and test words they stand only last.
	Unseen string
	// TrainOnly holds the consonants the pretraining corpus never contains.
	TrainOnly string
	// Shared holds the other consonants: in train and in the corpus.
	Shared                  string
	Train, Val, Test, Other []string
}

// NewWorld generates the world for seed; the same seed gives the same world.
func NewWorld(seed int64) *World {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5e17))
	w := &World{Seed: seed}
	for i, p := range rng.Perm(26) {
		w.Script[i] = byte('a' + p)
	}
	perm := rng.Perm(len(consonants))
	pick := func(idx []int) string {
		b := []byte{}
		for _, i := range idx {
			b = append(b, consonants[i])
		}
		slices.Sort(b)
		return string(b)
	}
	w.Unseen = pick(perm[:UnseenLetters])
	w.TrainOnly = pick(perm[UnseenLetters : UnseenLetters+TrainOnlyLetters])
	w.Shared = pick(perm[UnseenLetters+TrainOnlyLetters:])
	seen := map[string]bool{}
	// take draws n new words that want accepts.
	take := func(n int, want func(string) bool) []string {
		out := make([]string, 0, n)
		for len(out) < n {
			x := newWord(rng)
			if seen[x] || !want(x) {
				continue
			}
			seen[x] = true
			out = append(out, x)
		}
		return out
	}
	noUnseen := func(x string) bool { return !w.HasUnseen(x) }
	endsUnseen := func(x string) bool {
		i := strings.IndexAny(x, w.Unseen)
		return i == len(x)-1
	}
	w.Train = take(TrainWords, noUnseen)
	heldOut := func(n int) []string {
		k := int(float64(n)*UnseenShare + 0.5)
		ws := append(take(k, endsUnseen), take(n-k, noUnseen)...)
		rng.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
		return ws
	}
	w.Val, w.Test = heldOut(ValWords), heldOut(TestWords)
	w.Other = take(CorpusWords, func(x string) bool { return !w.HasTrainOnly(x) })
	return w
}

// HasUnseen reports whether word holds a letter no train word has.
func (w *World) HasUnseen(word string) bool { return strings.ContainsAny(word, w.Unseen) }

// HasTrainOnly reports whether word holds a letter the corpus never has.
func (w *World) HasTrainOnly(word string) bool { return strings.ContainsAny(word, w.TrainOnly) }

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

// careless writes word with the habit: a final consonant read as the next
// one of its group (unseen letters among themselves, shared ones among
// themselves) before it is written. The result has the right length, and
// an unseen letter is still written as an unseen letter's script, so no
// check built from train can tell a careless answer from a right one.
func (w *World) careless(word string) string { return w.write(word, true) }

func (w *World) write(word string, habit bool) string {
	b := []byte(word)
	for i, c := range b {
		if c < 'a' || c > 'z' {
			continue
		}
		if habit && i == len(b)-1 {
			c = w.misread(c)
		}
		b[i] = w.Script[c-'a']
	}
	return string(b)
}

// misread is the letter a careless scribe reads a final c as.
func (w *World) misread(c byte) byte {
	for _, group := range []string{w.Unseen, w.Shared} {
		if j := strings.IndexByte(group, c); j >= 0 {
			return group[(j+1)%len(group)]
		}
	}
	return c
}

// CorpusOptions shape the pretraining corpus. Zero values take defaults.
type CorpusOptions struct {
	// HabitRate is the share of chats written by a careless scribe (default
	// 0.6). Above one half, the habit is the model's most likely answer, so
	// sampling more answers and voting keeps it; a negative value turns it
	// off.
	HabitRate float64
	// ArrowHabitRate is the careless share among chats in the rarer
	// "word ->" wording (default 0.9).
	ArrowHabitRate float64
	// SlipRate is the share of translations with one letter written at
	// random (default 0.2): noise that voting removes.
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

// Corpus is the pretraining text: one chat per corpus word and per train
// word without a train-only letter (0–4 solved examples of corpus words,
// then the question, in either wording), never a val or test word. It
// teaches the script of every letter but the train-only ones, unseen
// letters included, with the habit.
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
	words := append([]string(nil), w.Other...)
	for _, x := range w.Train {
		if !w.HasTrainOnly(x) {
			words = append(words, x)
		}
	}
	docs := make([][]llm.Message, 0, len(words))
	for _, x := range words {
		variant := VariantTr
		if rng.IntN(4) == 0 {
			variant = VariantArrow
		}
		// A chat is written by one scribe, careless or not: its solved
		// examples and its answer share the habit.
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
// "word ->".
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
