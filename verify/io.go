package verify

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/sia-agent/sia/internal/atomicfile"
	"github.com/sia-agent/sia/runstore"
)

// WriteFile writes r as results.json at path, atomically.
func WriteFile(path string, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// ReadFile reads a results.json written by WriteFile or by an external
// evaluate.py. Unknown top-level scalars become Metrics.
func ReadFile(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes results.json bytes.
func Parse(b []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, errorf("parse %s: %w", runstore.ResultsFile, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, errorf("parse %s: %w", runstore.ResultsFile, err)
	}
	known := map[string]bool{"format_version": true, "task": true, "split": true, "metric": true, "score": true,
		"higher_is_better": true, "n": true, "counts": true, "metrics": true, "items": true}
	for k, v := range raw {
		if known[k] {
			continue
		}
		var f float64
		if json.Unmarshal(v, &f) == nil {
			if r.Metrics == nil {
				r.Metrics = map[string]float64{}
			}
			r.Metrics[k] = f
		}
	}
	if r.Metric != "" {
		if s, ok := r.Metrics[r.Metric]; ok && r.Score == 0 {
			r.Score = s
		}
	}
	return &r, nil
}
