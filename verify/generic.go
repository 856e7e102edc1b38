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
		a, g = strings.Join(strings.Fields(strings.ToLower(a)), " "), strings.Join(strings.Fields(strings.ToLower(g)), " ")
	}
	return Judge(a == g, "")
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

// Generic returns a built-in scorer by name: exact, exact_fold, number.
func Generic(name string) (Scorer, error) {
	switch name {
	case "exact":
		return Exact{}, nil
	case "exact_fold":
		return Exact{Fold: true}, nil
	case "number":
		return Number{RelTol: 1e-6}, nil
	}
	return nil, fmt.Errorf("unknown verifier %q (built in: exact, exact_fold, number)", name)
}
