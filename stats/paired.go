package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// ErrLength is returned when two paired vectors differ in length.
var ErrLength = errors.New("paired vectors differ in length")

// Diffs returns a[i] − b[i].
func Diffs(a, b []float64) ([]float64, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("%w: %d and %d", ErrLength, len(a), len(b))
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d, nil
}

// Mean is the arithmetic mean (0 for no values).
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// Variance is the sample variance (divisor n−1; 0 for fewer than 2 values).
func Variance(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	m := Mean(x)
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return s / float64(len(x)-1)
}

// StdErr is the standard error of the mean: the sample standard deviation
// over √n (0 for fewer than 2 values). Over paired differences it is the
// paired standard error.
func StdErr(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	return math.Sqrt(Variance(x) / float64(len(x)))
}

// TInterval is the two-sided t confidence interval of the mean of x at
// coverage level (e.g. 0.95): mean ± t_{(1+level)/2, n−1} · SE. With fewer
// than 2 values, or no spread, it is the mean itself.
func TInterval(x []float64, level float64) (lo, hi float64) {
	m, se := Mean(x), StdErr(x)
	if len(x) < 2 || se == 0 {
		return m, m
	}
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(x) - 1)}.Quantile((1 + level) / 2)
	return m - q*se, m + q*se
}

// PairedT is the one-sample t-test of the mean of the paired differences d
// against 0: the statistic and its one-sided p-value for "mean > 0". With
// no spread, p is 0 when the mean is positive and 1 otherwise; with fewer
// than 2 values it is 1.
func PairedT(d []float64) (t, pGreater float64) {
	if len(d) < 2 {
		return 0, 1
	}
	m, se := Mean(d), StdErr(d)
	if se == 0 {
		switch {
		case m > 0:
			return math.Inf(1), 0
		case m < 0:
			return math.Inf(-1), 1
		}
		return 0, 1
	}
	t = m / se
	return t, distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(d) - 1)}.Survival(t)
}

// Comparison is a paired comparison of a candidate with an incumbent, item
// by item, oriented so that a positive gain is an improvement.
type Comparison struct {
	N      int     `json:"n"`       // paired items
	Gain   float64 `json:"gain"`    // mean per-item difference
	SE     float64 `json:"se"`      // paired standard error of Gain
	Lo     float64 `json:"gain_lo"` // the t interval of Gain at Level
	Hi     float64 `json:"gain_hi"`
	Level  float64 `json:"ci_level"`
	Wins   int     `json:"wins"` // items where the candidate scored higher
	Losses int     `json:"losses"`
	Ties   int     `json:"ties"`
	// P is the one-sided p-value of the sign-flip test for Gain > 0, and
	// Method how it was computed (SignFlip).
	P      float64 `json:"p_value"`
	Method string  `json:"method"`
}

// Compare compares candidate with incumbent item by item (the same items
// in the same order): d = candidate − incumbent, or incumbent − candidate
// when lower scores are better. level is the interval's coverage; seed
// drives the Monte Carlo fallback of SignFlip.
func Compare(candidate, incumbent []float64, higher bool, level float64, seed uint64) (Comparison, error) {
	d, err := Diffs(candidate, incumbent)
	if err != nil {
		return Comparison{}, err
	}
	if !higher {
		for i := range d {
			d[i] = -d[i]
		}
	}
	c := Comparison{N: len(d), Gain: Mean(d), SE: StdErr(d), Level: level}
	c.Lo, c.Hi = TInterval(d, level)
	for _, v := range d {
		switch {
		case v > tieTol:
			c.Wins++
		case v < -tieTol:
			c.Losses++
		default:
			c.Ties++
		}
	}
	c.P, c.Method = SignFlip(d, seed)
	return c, nil
}

// tieTol is how close to 0 a difference of two means counts as a tie.
const tieTol = 1e-12
