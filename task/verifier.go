package task

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/sia-agent/sia/verify"
)

// Verifier returns the verifier for a split: the task folder's evaluate.py
// when the spec names it (run sandboxed, see WithEvaluator), else the
// bundle's Go scorer, else the spec's generic one.
func (t *Task) Verifier(split string) (verify.Verifier, error) {
	spec := verify.Spec{Task: t.Spec.Name, Split: split, Metric: t.Spec.Metric, Higher: t.Spec.HigherIsBetter()}
	if t.UsesEvaluator() {
		return t.externalVerifier(spec, split)
	}
	if t.Bundle != nil && t.Bundle.Scorer != nil {
		return verify.ScorerVerifier{Spec: spec, Scorer: t.Bundle.Scorer, Aggregator: t.Bundle.Aggregator}, nil
	}
	sc, err := verify.Generic(t.Spec.Verifier)
	if err != nil {
		return nil, fmt.Errorf("task %q: %w", t.Spec.Name, err)
	}
	return verify.ScorerVerifier{Spec: spec, Scorer: sc}, nil
}

// ParseSubmission reads a submission file into answers by id, with the
// bundle's parser when it has one.
func (t *Task) ParseSubmission(filename string, data []byte) (map[string]string, error) {
	if t.Bundle != nil && t.Bundle.ParseSubmission != nil {
		return t.Bundle.ParseSubmission(filename, data)
	}
	return ParseSubmission(filename, data, t.Spec.Items.ID, t.Spec.Items.Label)
}

// ParseSubmission is the generic reader: a CSV with an id column and an
// answer column (the first of the label column, "answer", "prediction" and
// "solution"), or JSON: an object id → answer, or an array of records with
// the id and the first of "answer", the label, "prediction", "solution".
func ParseSubmission(filename string, data []byte, idKey, labelKey string) (map[string]string, error) {
	switch strings.ToLower(path.Ext(filename)) {
	case ".csv":
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		rows, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filename, err)
		}
		if len(rows) == 0 {
			return nil, fmt.Errorf("%s: empty file (want a header with %q and %q)", filename, idKey, labelKey)
		}
		idCol, ansCol := -1, -1
		for i, h := range rows[0] {
			switch {
			case h == idKey:
				idCol = i
			case ansCol < 0 && (h == labelKey || h == "answer" || h == "prediction" || h == "solution"):
				ansCol = i
			}
		}
		if idCol < 0 {
			return nil, fmt.Errorf("%s: no %q column", filename, idKey)
		}
		if ansCol < 0 {
			return nil, fmt.Errorf("%s: no %q or \"answer\" column", filename, labelKey)
		}
		out := make(map[string]string, len(rows)-1)
		for _, row := range rows[1:] {
			out[row[idCol]] = row[ansCol]
		}
		return out, nil
	case ".json", ".jsonl":
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) > 0 && trimmed[0] == '{' {
			var m map[string]any
			if err := json.Unmarshal(trimmed, &m); err == nil {
				out := make(map[string]string, len(m))
				for k, v := range m {
					out[k] = scalarString(v)
				}
				return out, nil
			}
		}
		recs, err := ReadRecordsBytes(filename, data)
		if err != nil {
			return nil, err
		}
		out := make(map[string]string, len(recs))
		for i, r := range recs {
			id, ok := r[idKey]
			if !ok {
				return nil, fmt.Errorf("%s: record %d has no %q", filename, i+1, idKey)
			}
			var ans any
			for _, k := range []string{"answer", labelKey, "prediction", "solution"} {
				if v, ok := r[k]; ok {
					ans = v
					break
				}
			}
			out[scalarString(id)] = scalarString(ans)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: submission must be .csv or .json", filename)
}

// ReadRecordsBytes is ReadRecords over bytes already in memory.
func ReadRecordsBytes(filename string, data []byte) ([]map[string]any, error) {
	if strings.HasSuffix(filename, ".jsonl") {
		var out []map[string]any
		for i, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				return nil, fmt.Errorf("%s line %d: %w", filename, i+1, err)
			}
			out = append(out, m)
		}
		return out, nil
	}
	return parseJSON(filename, data)
}
