package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sia-agent/sia/runstore"
	"io/fs"
	"math"
	"path"
	"sort"
)

// Curve is one weight update's per-step training metrics, read from a
// train*.jsonl file: one JSON object per optimizer step.
type Curve struct {
	File   string    // run-relative, e.g. gen_3/train.jsonl
	Steps  []float64 // each line's "step", or its line number
	Series []Series
}

// Series is one metric over the steps; NaN where a line lacks it.
type Series struct {
	Name   string
	Values []float64
}

// Get returns the series called name, or nil.
func (c *Curve) Get(name string) *Series {
	for i := range c.Series {
		if c.Series[i].Name == name {
			return &c.Series[i]
		}
	}
	return nil
}

// Last returns the last non-NaN value, or NaN.
func (s *Series) Last() float64 {
	for i := len(s.Values) - 1; i >= 0; i-- {
		if !math.IsNaN(s.Values[i]) {
			return s.Values[i]
		}
	}
	return math.NaN()
}

// First returns the first non-NaN value, or NaN.
func (s *Series) First() float64 {
	for _, v := range s.Values {
		if !math.IsNaN(v) {
			return v
		}
	}
	return math.NaN()
}

// CurveMetrics are the metrics shown first, in this order; any other
// numeric field follows in the order it first appears.
var CurveMetrics = []string{"loss", "reward", "kl", "grad_norm"}

// notSeries are fields that index a step rather than measure it.
var notSeries = map[string]bool{"step": true, "epoch": true}

// TrainCurves reads the training metrics of gen_<n>: gen_<n>/train.jsonl,
// train_<k>.jsonl of earlier rounds, and adapter/train.jsonl when a
// trainer put its log there. None for a generation without a weight update.
func (r *Run) TrainCurves(gen int) ([]Curve, error) {
	dir := runstore.GenDirName(gen)
	var names []string
	entries, err := fs.ReadDir(r.fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if _, ok := runstore.TrainLogRound(e.Name()); ok && !e.IsDir() {
			names = append(names, path.Join(dir, e.Name()))
		}
	}
	sort.Slice(names, func(i, j int) bool { return roundOf(names[i]) < roundOf(names[j]) })
	inAdapter := path.Join(dir, runstore.AdapterDir, runstore.TrainLogFile)
	if _, err := fs.Stat(r.fsys, inAdapter); err == nil {
		names = append(names, inAdapter)
	}
	var out []Curve
	for _, name := range names {
		b, err := fs.ReadFile(r.fsys, name)
		if err != nil {
			return nil, err
		}
		c, err := ParseCurve(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.File = name
		out = append(out, *c)
	}
	return out, nil
}

// roundOf orders train_<k>.jsonl by k; train.jsonl (the last round) last.
func roundOf(name string) int {
	k, _ := runstore.TrainLogRound(path.Base(name))
	if k == 0 {
		return math.MaxInt
	}
	return k
}

// ParseCurve reads JSON lines of per-step metrics. A torn last line (a
// trainer killed mid-write) is dropped.
func ParseCurve(b []byte) (*Curve, error) {
	c := &Curve{}
	index := map[string]int{}
	for _, name := range CurveMetrics {
		index[name] = len(c.Series)
		c.Series = append(c.Series, Series{Name: name})
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	line := 0
	torn := len(b) > 0 && b[len(b)-1] != '\n'
	lines := bytes.Count(b, []byte("\n"))
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(text, &m); err != nil {
			if torn && line == lines+1 {
				break
			}
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		step := float64(len(c.Steps) + 1)
		if v, ok := m["step"].(float64); ok {
			step = v
		}
		n := len(c.Steps)
		c.Steps = append(c.Steps, step)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys) // new metrics appear in a fixed order
		for _, k := range keys {
			v, ok := m[k].(float64)
			if !ok || notSeries[k] {
				continue
			}
			i, seen := index[k]
			if !seen {
				i = len(c.Series)
				index[k] = i
				c.Series = append(c.Series, Series{Name: k, Values: nanFill(n)})
			}
			c.Series[i].Values = append(c.Series[i].Values, v)
		}
		for i := range c.Series {
			if len(c.Series[i].Values) == n { // this line lacks the metric
				c.Series[i].Values = append(c.Series[i].Values, math.NaN())
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	// Drop the standard metrics this trainer does not report.
	kept := c.Series[:0]
	for _, s := range c.Series {
		if !allNaN(s.Values) {
			kept = append(kept, s)
		}
	}
	c.Series = kept
	return c, nil
}

func nanFill(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

func allNaN(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}
