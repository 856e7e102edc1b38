package ml

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Table is tabular data for gradient-boosted trees: named columns of raw
// cells. A cell is nil (missing), a string, a float64, an int64 or a bool.
type Table struct {
	Names []string
	Rows  [][]any
}

// isMissing reports whether a cell counts as missing: nil, NaN, or an empty
// or NA-like string ("", "nan", "na", "none", "null", any case).
func isMissing(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case float64:
		return math.IsNaN(x)
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "", "nan", "na", "n/a", "none", "null":
			return true
		}
	}
	return false
}

// numeric returns the cell as a number when it is one: a float, an int, or
// a string that parses as a number. Bools are not numbers (they are
// categories "True"/"False").
func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// category returns the cell as a category name.
func category(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

func (t *Table) check() error {
	if t == nil || len(t.Rows) == 0 {
		return fmt.Errorf("no rows")
	}
	if len(t.Names) == 0 {
		return fmt.Errorf("no columns")
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Names) {
			return fmt.Errorf("row %d has %d cells, want %d (columns %v)", i, len(r), len(t.Names), t.Names)
		}
	}
	return nil
}

// InferCategorical returns, for each column, whether it is categorical: it
// is when forced, or when some non-missing cell is not a number.
func (t *Table) InferCategorical(forced map[string]bool) []bool {
	out := make([]bool, len(t.Names))
	for j, name := range t.Names {
		if forced[name] {
			out[j] = true
			continue
		}
		for _, r := range t.Rows {
			if isMissing(r[j]) {
				continue
			}
			if _, ok := numeric(r[j]); !ok {
				out[j] = true
				break
			}
		}
	}
	return out
}
