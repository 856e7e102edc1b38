package stats

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// reference is testdata/reference.json, written by testdata/reference.py
// with SciPy and NumPy.
type reference struct {
	Cases []struct {
		Name        string    `json:"name"`
		Candidate   []float64 `json:"candidate"`
		Incumbent   []float64 `json:"incumbent"`
		Mean        float64   `json:"mean"`
		SE          float64   `json:"se"`
		T           float64   `json:"t"`
		TPGreater   float64   `json:"t_p_greater"`
		CI95        []float64 `json:"ci95"`
		Nonzero     int       `json:"nonzero"`
		SignFlipP   float64   `json:"signflip_p"`
		SignFlipRef string    `json:"signflip_ref"`
	} `json:"cases"`
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("no reference cases")
	}
	return ref
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

// TestAgainstSciPy checks every statistic against the reference values.
func TestAgainstSciPy(t *testing.T) {
	for _, c := range loadReference(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			d, err := Diffs(c.Candidate, c.Incumbent)
			if err != nil {
				t.Fatal(err)
			}
			if got := Mean(d); !near(got, c.Mean, 1e-12) {
				t.Errorf("mean %v, scipy %v", got, c.Mean)
			}
			if got := StdErr(d); !near(got, c.SE, 1e-12) {
				t.Errorf("paired SE %v, scipy %v", got, c.SE)
			}
			tt, p := PairedT(d)
			if !near(tt, c.T, 1e-10) || !near(p, c.TPGreater, 1e-8) {
				t.Errorf("paired t %v (p %v), scipy %v (p %v)", tt, p, c.T, c.TPGreater)
			}
			lo, hi := TInterval(d, 0.95)
			if !near(lo, c.CI95[0], 1e-9) || !near(hi, c.CI95[1], 1e-9) {
				t.Errorf("95%% interval [%v, %v], scipy [%v, %v]", lo, hi, c.CI95[0], c.CI95[1])
			}
			sp, method := SignFlip(d, 1)
			tol := 1e-10
			if strings.Contains(method, "Monte Carlo") {
				// the Monte Carlo estimate's own error, 4 standard errors
				tol = 4 * math.Sqrt(c.SignFlipP*(1-c.SignFlipP)/MonteCarloDraws) / (1 + c.SignFlipP)
			}
			if !near(sp, c.SignFlipP, tol) {
				t.Errorf("sign-flip p %v by %s; reference %v (%s)", sp, method, c.SignFlipP, c.SignFlipRef)
			}
			t.Logf("%s: p %.6g by %s (reference %.6g, %s)", c.Name, sp, method, c.SignFlipP, c.SignFlipRef)
		})
	}
}

// TestSignFlipMethods checks which method each kind of input takes, so the
// reference cases above cover all three.
func TestSignFlipMethods(t *testing.T) {
	tests := []struct {
		name string
		d    []float64
		want string
		p    float64 // exact p, or -1 to skip
	}{
		{"no differences", []float64{0, 0, 0}, "no nonzero difference", 1},
		{"one win on a lattice", []float64{0, 0.125, 0}, "lattice 1/8", 0.5},
		{"two wins, K=1", []float64{1, 1}, "lattice 1/1", 0.25},
		{"win and loss", []float64{1, -1}, "lattice 1/1", 0.75},
		{"off-lattice, few", []float64{0.1234567, -0.0111111, 0.3333339}, "2^3 assignments", -1},
		{"off-lattice, many", offLattice(25), "Monte Carlo", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, method := SignFlip(tc.d, 7)
			if !strings.Contains(method, tc.want) {
				t.Errorf("method %q, want %q", method, tc.want)
			}
			if tc.p >= 0 && !near(p, tc.p, 1e-12) {
				t.Errorf("p %v, want %v", p, tc.p)
			}
			if p <= 0 || p > 1 {
				t.Errorf("p %v outside (0, 1]", p)
			}
		})
	}
}

// offLattice is n values that lie on no lattice 1/L with L ≤ 1024.
func offLattice(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Sqrt(float64(i+2)) / 10
		if i%3 == 0 {
			out[i] = -out[i]
		}
	}
	return out
}

// TestSignFlipMonteCarloIsSeeded: the same seed gives the same p.
func TestSignFlipMonteCarloIsSeeded(t *testing.T) {
	d := offLattice(25)
	a, _ := SignFlip(d, 3)
	b, _ := SignFlip(d, 3)
	c, _ := SignFlip(d, 4)
	if a != b {
		t.Errorf("same seed, p %v and %v", a, b)
	}
	if a == c {
		t.Logf("seeds 3 and 4 gave the same estimate %v (possible, but unlikely)", a)
	}
}

func TestCompare(t *testing.T) {
	cand := []float64{1, 0.5, 0.25, 0.75}
	inc := []float64{0.5, 0.5, 0.5, 0.25}
	tests := []struct {
		name   string
		higher bool
		gain   float64
		wins   int
		losses int
	}{
		{"higher is better", true, 0.1875, 2, 1},
		{"lower is better", false, -0.1875, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compare(cand, inc, tc.higher, 0.95, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !near(c.Gain, tc.gain, 1e-12) || c.Wins != tc.wins || c.Losses != tc.losses || c.Ties != 1 || c.N != 4 {
				t.Errorf("%+v, want gain %v, %d wins, %d losses, 1 tie", c, tc.gain, tc.wins, tc.losses)
			}
			if !(c.Lo < c.Gain && c.Gain < c.Hi) || c.Level != 0.95 {
				t.Errorf("interval [%v, %v] at %v does not hold gain %v", c.Lo, c.Hi, c.Level, c.Gain)
			}
		})
	}
	if _, err := Compare([]float64{1}, []float64{1, 2}, true, 0.95, 1); err == nil {
		t.Error("vectors of different lengths were compared")
	}
}

func TestSmallInputs(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		mean float64
		se   float64
		p    float64
	}{
		{"empty", nil, 0, 0, 1},
		{"one", []float64{0.5}, 0.5, 0, 1},
		{"constant positive", []float64{0.25, 0.25, 0.25}, 0.25, 0, 0},
		{"constant zero", []float64{0, 0}, 0, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if m, se := Mean(tc.x), StdErr(tc.x); m != tc.mean || se != tc.se {
				t.Errorf("mean %v se %v, want %v %v", m, se, tc.mean, tc.se)
			}
			if _, p := PairedT(tc.x); p != tc.p {
				t.Errorf("t-test p %v, want %v", p, tc.p)
			}
			lo, hi := TInterval(tc.x, 0.95)
			if lo != tc.mean || hi != tc.mean {
				t.Errorf("interval [%v, %v], want the mean", lo, hi)
			}
		})
	}
}
