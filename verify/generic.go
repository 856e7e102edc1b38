package verify

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Exact scores trimmed string equality.
type Exact struct{ Fold bool }

// ScoreItem implements Scorer.
func (e Exact) ScoreItem(_, answer, gold string) ItemResult {
	a, g := strings.TrimSpace(answer), strings.TrimSpace(gold)
	if a == "" {
		return Invalid("empty answer")
	}
	if e.Fold {
		a, g = Fold(a), Fold(g)
	}
	return Judge(a == g, "")
}

// Fold is the answer normalisation of exact_fold: lower case, runs of
// white space made one space, trimmed. The reward rules (package reward)
// compare completions with answers by it too.
func Fold(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// Word scores a one-word answer of letters a–z: trimmed and lowercased, it
// must equal gold exactly. Anything else than letters is invalid, and a
// wrong answer's detail never reveals gold beyond its length.
type Word struct{}

// ScoreItem implements Scorer.
func (Word) ScoreItem(_, answer, gold string) ItemResult {
	a := strings.ToLower(strings.TrimSpace(answer))
	if a == "" {
		return Invalid("empty answer")
	}
	for i := 0; i < len(a); i++ {
		if a[i] < 'a' || a[i] > 'z' {
			return Invalid("not a single word of letters a-z")
		}
	}
	if len(a) != len(gold) {
		return Judge(false, "wrong length")
	}
	return Judge(a == gold, "")
}

// Number compares answers as numbers within a relative tolerance.
type Number struct{ RelTol float64 }

// ScoreItem implements Scorer.
func (n Number) ScoreItem(_, answer, gold string) ItemResult {
	a, err := strconv.ParseFloat(strings.TrimSpace(answer), 64)
	if err != nil {
		return Invalid("not a number")
	}
	g, err := strconv.ParseFloat(strings.TrimSpace(gold), 64)
	if err != nil {
		return ItemResult{Status: StatusError, Detail: "gold label is not a number"}
	}
	tol := n.RelTol * math.Max(1, math.Abs(g))
	return Judge(math.Abs(a-g) <= tol, "")
}

// Generic returns a built-in scorer by name: exact, exact_fold, number, word.
func Generic(name string) (Scorer, error) {
	switch name {
	case "exact":
		return Exact{}, nil
	case "exact_fold":
		return Exact{Fold: true}, nil
	case "number":
		return Number{RelTol: 1e-6}, nil
	case "word":
		return Word{}, nil
	}
	return nil, fmt.Errorf("unknown verifier %q (built in: exact, exact_fold, number, word)", name)
}
