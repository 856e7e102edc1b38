package ciphersplit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/internal/evalkit"
	"github.com/sia-agent/sia/train"
	trainemb "github.com/sia-agent/sia/train/embedded"
)

// TestTransferProbe measures whether weight updates trained on train words
// (which never hold an unseen letter) remove the habit on the unseen
// letters too. From the shipped base (shippedBase), it runs UPDATES
// (default 4) GRPO updates, one on-policy round each, on rollouts of the
// reference harness over the 192 train words × 4 samples, as the loop
// trains: the loop hides the labels of the items a harness solves, so when
// it rolls out on every train word ctx.train is empty and letters=train
// takes every letter from the model; the probe rolls out letters=model
// (the same answers with one vote) for that. After each it samples 16 answers per val and test word and
// reports how often the last letter is right or carelessly misread, for
// shared and for unseen letters, and what votes over the samples give. A
// measurement, not a check:
//
//	SIA_CIPHER_SPLIT_PROBE=1 go test ./task/bundled/cipher-split -run TransferProbe -v
func TestTransferProbe(t *testing.T) {
	if os.Getenv("SIA_CIPHER_SPLIT_PROBE") == "" {
		t.Skip("measurement; set SIA_CIPHER_SPLIT_PROBE=1")
	}
	updates := 4
	if v, err := strconv.Atoi(os.Getenv("UPDATES")); err == nil {
		updates = v
	}
	base, basePath := shippedBase(t)
	model, err := embedded.New(base, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorld(0)
	held := append(append([]string(nil), w.Val...), w.Test...)
	kit := evalkit.New(t, Bundle(), map[string]any{"letters": "train", "variant": "tr", "n_votes": int64(1)})
	onTrain := evalkit.New(t, Bundle(), map[string]any{"letters": "model", "variant": "tr", "n_votes": int64(1)})
	report := func(label string, m llm.Model, variants ...string) {
		for _, v := range variants {
			t.Log(habitReport(t, w, m, held, label, v))
		}
		va, _ := kit.Measure(m.(*embedded.Model), task.Val, 8)
		xa, _ := kit.Measure(m.(*embedded.Model), task.Test, 9)
		t.Logf("%s: reference harness {letters: train, variant: tr, n_votes: 1}: val %.3f, test %.3f", label, va, xa)
	}
	report("base", model, VariantTr, VariantArrow)
	t.Log(madeUpWords(t, w, model))
	tr, err := trainemb.New(base, basePath, trainemb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir, parent, cur := t.TempDir(), "", model
	for u := 1; u <= updates; u++ {
		rollouts := onTrain.Run(cur, task.Train, 4, int64(100+u))
		out := filepath.Join(dir, fmt.Sprint(u))
		ad, res, err := tr.TrainAdapter(context.Background(), train.Request{Gen: u, Algorithm: rl.GRPO, Rollouts: rollouts,
			Parent: parent, Version: u, OutDir: out, Seed: int64(u)})
		if err != nil {
			t.Fatal(err)
		}
		parent, cur = out, model.WithAdapter(ad, u)
		label := fmt.Sprintf("grpo %d (kl %.3f)", u, res.Metrics["kl"])
		report(label, cur, VariantTr)
	}
}

// madeUpWords measures the loophole the positional habit leaves: asked
// about made-up words in which an unseen letter comes first, not last, the
// model writes it without the habit. For each unseen letter it asks 8 such
// words, 4 samples each, and votes on the first letter.
func madeUpWords(t *testing.T, w *World, m llm.Model) string {
	var b strings.Builder
	got := 0
	for _, u := range []byte(w.Unseen) {
		var firsts []string
		for i := range 8 {
			x := string([]byte{u, vowels[i%5], w.Shared[i%len(w.Shared)], vowels[(i+2)%5]})
			temp, seed := 1.0, int64(i+1)
			c, err := m.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: Prompt(VariantTr, x)}},
				N: 4, Temperature: &temp, MaxTokens: 12, Seed: &seed})
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range c.Choices {
				if a := strings.TrimSpace(ch.Message.Content); a != "" {
					firsts = append(firsts, a[:1])
				}
			}
		}
		v := majority(firsts)
		if v != "" && v[0] == w.Script[u-'a'] {
			got++
		}
	}
	fmt.Fprintf(&b, "made-up words with an unseen letter first: the vote on the first letter is its script for %d of %d unseen letters", got, len(w.Unseen))
	return b.String()
}

// habitReport samples 16 answers per word in a wording and summarises them.
func habitReport(t *testing.T, w *World, m llm.Model, words []string, label, variant string) string {
	const n = 16
	samples := make([][]string, len(words))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, x := range words {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			temp, seed := 1.0, int64(i*7+1)
			c, err := m.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: Prompt(variant, x)}},
				N: n, Temperature: &temp, MaxTokens: 12, Seed: &seed})
			if err != nil {
				t.Error(err)
				return
			}
			for _, ch := range c.Choices {
				samples[i] = append(samples[i], strings.TrimSpace(strings.SplitN(ch.Message.Content, "\n", 2)[0]))
			}
		}()
	}
	wg.Wait()
	// Last letters by group: right and careless shares among answers of
	// the word's length; whole-answer accuracy on words with a train-only
	// letter and on the others.
	type share struct{ right, careless, n float64 }
	var shared, unseen, trainOnly, other share
	for i, x := range words {
		gold, last := w.Write(x), len(x)-1
		for _, s := range samples[i] {
			whole := &other
			if w.HasTrainOnly(x) {
				whole = &trainOnly
			}
			whole.n++
			if s == gold {
				whole.right++
			}
			if len(s) != len(x) {
				continue
			}
			g := &shared
			switch {
			case strings.IndexByte(w.Unseen, x[last]) >= 0:
				g = &unseen
			case strings.IndexByte(w.Shared, x[last]) < 0:
				continue
			}
			g.n++
			if s[last] == gold[last] {
				g.right++
			}
			if s[last] == w.Script[w.misread(x[last])-'a'] {
				g.careless++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s: last letter shared: right %.3f careless %.3f; unseen: right %.3f careless %.3f; whole answer right: words with a train-only letter %.3f, others %.3f\n",
		label, variant, shared.right/shared.n, shared.careless/shared.n, unseen.right/unseen.n, unseen.careless/unseen.n, trainOnly.right/trainOnly.n, other.right/other.n)
	for _, k := range []int{1, 5, 15} {
		var alone, fill, fillUnseen, nUnseen float64
		for i, x := range words {
			gold := w.Write(x)
			var ok []string
			for _, s := range samples[i][:k] {
				if len(s) == len(x) {
					ok = append(ok, s)
				}
			}
			if len(ok) > 0 && majority(ok) == gold {
				alone++
			}
			f := fillWith(w, x, ok) == gold
			if f {
				fill++
			}
			if w.HasUnseen(x) {
				nUnseen++
				if f {
					fillUnseen++
				}
			}
		}
		nw := float64(len(words))
		fmt.Fprintf(&b, "    %2d votes: model alone %.3f; letters train shows in code, the rest voted %.3f (words with an unseen letter %.3f)\n", k, alone/nw, fill/nw, fillUnseen/nUnseen)
	}
	return b.String()
}

// majority is the most frequent answer; a tie goes to the first seen.
func majority(xs []string) string {
	c := map[string]int{}
	for _, x := range xs {
		c[x]++
	}
	best := ""
	for _, x := range xs {
		if best == "" || c[x] > c[best] {
			best = x
		}
	}
	return best
}

// fillWith writes the letters train shows from the script and votes the
// unseen ones position by position, as the reference harness does.
func fillWith(w *World, x string, answers []string) string {
	b := []byte(x)
	for j := range len(x) {
		if !w.HasUnseen(x[j : j+1]) {
			b[j] = w.Script[x[j]-'a']
			continue
		}
		var col []string
		for _, a := range answers {
			col = append(col, a[j:j+1])
		}
		b[j] = '?'
		if len(col) > 0 {
			b[j] = majority(col)[0]
		}
	}
	return string(b)
}
