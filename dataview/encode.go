package dataview

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/sia-agent/sia/task"
)

// encode writes rows in p's format: CSV keeping orig's column order for
// the columns present (then any others, sorted), JSONL, or JSON (an
// array of objects, whatever shape orig had).
func encode(p string, orig []byte, rows []map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	switch ext(p) {
	case "csv":
		cols := columns(orig, rows)
		w := csv.NewWriter(&buf)
		if err := w.Write(cols); err != nil {
			return nil, err
		}
		for _, r := range rows {
			rec := make([]string, len(cols))
			for i, c := range cols {
				if v, ok := r[c]; ok && v != nil {
					rec[i] = cell(v)
				}
			}
			if err := w.Write(rec); err != nil {
				return nil, err
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return nil, err
		}
	case "jsonl":
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return nil, err
			}
		}
	case "json":
		if rows == nil {
			rows = []map[string]any{}
		}
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", " ")
		if err := enc.Encode(rows); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("cannot write records as %q (want csv, json or jsonl)", ext(p))
	}
	return buf.Bytes(), nil
}

// cell renders one CSV value: strings as they are, numbers and booleans
// as their shortest text.
func cell(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return task.IDString(v)
}

// columns keeps the original CSV header's order for the columns present,
// then adds any others sorted.
func columns(orig []byte, rows []map[string]any) []string {
	present := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			present[k] = true
		}
	}
	var cols []string
	if len(orig) > 0 {
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(orig, []byte("\xef\xbb\xbf"))))
		if head, err := r.Read(); err == nil {
			for _, c := range head {
				if present[c] {
					cols = append(cols, c)
					delete(present, c)
				}
			}
		}
	}
	rest := make([]string, 0, len(present))
	for c := range present {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	return append(cols, rest...)
}
