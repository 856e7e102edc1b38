package ml

import (
	"fmt"
	"slices"
)

// encodeLabels maps string labels to class indices over the sorted set of
// distinct labels.
func encodeLabels(y []string) (classes []string, codes []int, err error) {
	if len(y) == 0 {
		return nil, nil, fmt.Errorf("no training rows")
	}
	set := map[string]int{}
	for _, l := range y {
		set[l] = 0
	}
	classes = make([]string, 0, len(set))
	for l := range set {
		classes = append(classes, l)
	}
	slices.Sort(classes)
	for i, c := range classes {
		set[c] = i
	}
	codes = make([]int, len(y))
	for i, l := range y {
		codes[i] = set[l]
	}
	return classes, codes, nil
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// checkRows validates a training matrix against its labels.
func checkRows(x *Matrix, n int) error {
	if x == nil || x.Rows() == 0 {
		return fmt.Errorf("no training rows")
	}
	if x.Rows() != n {
		return fmt.Errorf("%d rows but %d labels", x.Rows(), n)
	}
	return nil
}
