package llmagent

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// clusterRow is one solved item for failure clustering: its fields (no
// label), the harness's answer and whether it failed.
type clusterRow struct {
	Fields map[string]any
	Answer string
	Failed bool
}

// cluster is a group of items sharing a field value whose failure rate is
// above the overall one.
type cluster struct {
	Field  string  `json:"field"`
	Value  string  `json:"value"`
	Failed int     `json:"failed"`
	Items  int     `json:"items"`
	Rate   float64 `json:"failure_rate"`
	// Excess is how many more failures the group has than the overall rate
	// predicts: what fixing it could gain.
	Excess float64 `json:"excess_failures"`
}

// Clustering limits.
const (
	maxClusterValues = 30 // a field with more distinct values (free text) is binned if numeric, else skipped
	numericBins      = 4
	maxClusters      = 6
)

// failureClusters finds the field values (and answers) the failures share:
// groups of at least max(3, n/50) items whose failure rate exceeds the
// overall rate by a fifth or more, ranked by excess failures. Numeric
// fields with many values are cut into quartiles.
func failureClusters(rows []clusterRow) (overall float64, out []cluster) {
	n := len(rows)
	if n == 0 {
		return 0, nil
	}
	failed := 0
	for _, r := range rows {
		if r.Failed {
			failed++
		}
	}
	overall = float64(failed) / float64(n)
	if failed == 0 || failed == n {
		return overall, nil
	}
	minSize := max(3, n/50)
	fields := map[string]bool{}
	for _, r := range rows {
		for k := range r.Fields {
			fields[k] = true
		}
	}
	groups := map[[2]string][2]int{} // (field, value) → (failed, items)
	add := func(field, value string, fail bool) {
		g := groups[[2]string{field, value}]
		g[1]++
		if fail {
			g[0]++
		}
		groups[[2]string{field, value}] = g
	}
	for f := range fields {
		label := binner(rows, f)
		if label == nil {
			continue
		}
		for _, r := range rows {
			add(f, label(r.Fields[f]), r.Failed)
		}
	}
	answers := map[string]bool{}
	for _, r := range rows {
		answers[r.Answer] = true
	}
	if len(answers) <= maxClusterValues {
		for _, r := range rows {
			add("answer", strconv.Quote(clip(r.Answer, 40)), r.Failed)
		}
	}
	for k, g := range groups {
		if g[1] < minSize || g[1] == n {
			continue
		}
		rate := float64(g[0]) / float64(g[1])
		if rate < overall*1.2 || rate-overall < 0.05 {
			continue
		}
		out = append(out, cluster{Field: k[0], Value: k[1], Failed: g[0], Items: g[1], Rate: round3(rate),
			Excess: round3(float64(g[0]) - overall*float64(g[1]))})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Excess != out[j].Excess {
			return out[i].Excess > out[j].Excess
		}
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > maxClusters {
		out = out[:maxClusters]
	}
	return overall, out
}

// binner returns how field f's values are grouped: by quartile when
// numeric with more than eight values, as they are when there are few, or
// nil (skip) for free text.
func binner(rows []clusterRow, f string) func(any) string {
	distinct := map[string]bool{}
	var nums []float64
	numeric := true
	for _, r := range rows {
		s := fieldString(r.Fields[f])
		distinct[s] = true
		if s == "" {
			continue
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) {
			numeric = false
			continue
		}
		nums = append(nums, x)
	}
	numeric = numeric && len(nums) >= numericBins
	if len(distinct) <= maxClusterValues && !(numeric && len(distinct) > 2*numericBins) {
		return func(v any) string {
			if s := fieldString(v); s != "" {
				return s
			}
			return "(empty)"
		}
	}
	if !numeric {
		return nil
	}
	sort.Float64s(nums)
	var cuts []float64
	for q := 1; q < numericBins; q++ {
		c := nums[q*len(nums)/numericBins]
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	return func(v any) string {
		s := fieldString(v)
		x, err := strconv.ParseFloat(s, 64)
		if s == "" || err != nil {
			return "(empty)"
		}
		i := sort.SearchFloat64s(cuts, x)
		if i < len(cuts) && cuts[i] == x {
			i++
		}
		switch {
		case i == 0:
			return fmt.Sprintf("< %s", formatNum(cuts[0]))
		case i == len(cuts):
			return fmt.Sprintf("≥ %s", formatNum(cuts[len(cuts)-1]))
		}
		return fmt.Sprintf("[%s, %s)", formatNum(cuts[i-1]), formatNum(cuts[i]))
	}
}

// fieldString is a field value as the clusters name it.
func fieldString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
