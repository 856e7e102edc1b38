package ml

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Accuracy is the fraction of positions where pred equals gold.
func Accuracy(pred, gold []string) (float64, error) {
	if len(pred) != len(gold) {
		return 0, fmt.Errorf("accuracy: %d predictions for %d labels", len(pred), len(gold))
	}
	if len(gold) == 0 {
		return 0, fmt.Errorf("accuracy: no labels")
	}
	var hit int
	for i := range gold {
		if pred[i] == gold[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(gold)), nil
}

// Shuffled returns 0..n-1 in a seeded random order.
func Shuffled(n int, seed int64) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5851f42d4c957f2d))
	return rng.Perm(n)
}

// TrainValSplit splits 0..n-1 into train and validation indices: a seeded
// shuffle, the last round(valFrac·n) positions (at least one, and at least
// one left for training) become validation. Both lists are sorted.
func TrainValSplit(n int, valFrac float64, seed int64) (train, val []int, err error) {
	if n < 2 {
		return nil, nil, fmt.Errorf("split: need at least 2 rows, have %d", n)
	}
	if valFrac <= 0 || valFrac >= 1 {
		return nil, nil, fmt.Errorf("split: val fraction %g must be in (0, 1)", valFrac)
	}
	perm := Shuffled(n, seed)
	nv := min(max(int(valFrac*float64(n)+0.5), 1), n-1)
	train, val = slices.Clone(perm[:n-nv]), slices.Clone(perm[n-nv:])
	slices.Sort(train)
	slices.Sort(val)
	return train, val, nil
}

// Fold is one train/validation partition of k-fold cross-validation.
type Fold struct {
	Train, Val []int
}

// KFold partitions a seeded shuffle of 0..n-1 into k folds of nearly equal
// size; fold i validates on part i and trains on the rest.
func KFold(n, k int, seed int64) ([]Fold, error) {
	if k < 2 || k > n {
		return nil, fmt.Errorf("kfold: k=%d must be in [2, %d]", k, n)
	}
	perm := Shuffled(n, seed)
	folds := make([]Fold, k)
	for f := range k {
		lo, hi := f*n/k, (f+1)*n/k
		val := slices.Clone(perm[lo:hi])
		train := append(slices.Clone(perm[:lo]), perm[hi:]...)
		slices.Sort(val)
		slices.Sort(train)
		folds[f] = Fold{Train: train, Val: val}
	}
	return folds, nil
}
