package lawbench

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"sort"
	"strings"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/internal/siaeval"
	"github.com/sia-agent/sia/verify"
)

// Name is the task's name in the bundled registry.
const Name = "lawbench"

//go:embed task.yaml task.md reference/harness.star
var files embed.FS

// evaluatePy is this task's scoring in SIA's evaluate.py contract, for
// the task folders `sia data export-sia` writes (siaeval adds the rest).
//
//go:embed evaluate.py
var evaluatePy []byte

// Bundle returns the task for the bundled registry.
func Bundle() *task.Bundle {
	return &task.Bundle{Name: Name, Files: files, Scorer: Scorer{}, Aggregator: Aggregator{}, ParseSubmission: ParseSubmission,
		EvaluatePy: siaeval.Script(evaluatePy)}
}

// NormalizeCharge removes CAIL2018's bracket grouping, so
// "[走私、贩卖、运输、制造]毒品" and LawBench's "走私、贩卖、运输、制造毒品" are
// the same charge. Nothing else is changed: a charge name with or without
// a trailing 罪 is a different string, as in SIA.
func NormalizeCharge(s string) string {
	s = strings.TrimSpace(s)
	return strings.NewReplacer("[", "", "]", "", "［", "", "］", "").Replace(s)
}

// Scorer is top-1 exact match after NormalizeCharge.
type Scorer struct{}

var _ verify.Scorer = Scorer{}

// ScoreItem implements verify.Scorer.
func (Scorer) ScoreItem(_, answer, gold string) verify.ItemResult {
	a := NormalizeCharge(answer)
	if a == "" {
		return verify.Invalid("empty answer")
	}
	return verify.Judge(a == NormalizeCharge(gold), "")
}

// Aggregator adds SIA's per_class accuracy (one metric per gold charge,
// keyed "per_class/<charge>") and n_correct / n_total.
type Aggregator struct{}

var _ verify.Aggregator = Aggregator{}

// Aggregate implements verify.Aggregator.
func (Aggregator) Aggregate(items []verify.ItemResult, gold map[string]string) map[string]float64 {
	type acc struct{ ok, n int }
	by := map[string]*acc{}
	correct := 0
	for _, it := range items {
		c := NormalizeCharge(gold[it.ID])
		a := by[c]
		if a == nil {
			a = &acc{}
			by[c] = a
		}
		a.n++
		if it.Status == verify.StatusCorrect {
			a.ok++
			correct++
		}
	}
	out := map[string]float64{"n_correct": float64(correct), "n_total": float64(len(items))}
	if len(items) > 0 {
		out["accuracy"] = float64(correct) / float64(len(items))
	}
	names := make([]string, 0, len(by))
	for c := range by {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		out["per_class/"+c] = float64(by[c].ok) / float64(by[c].n)
	}
	return out
}

// ParseSubmission reads SIA's submission.csv: an "id" column and the
// label in the "label" column, else the last column (as SIA's evaluate.py
// does). JSON submissions use the generic reader.
func ParseSubmission(filename string, data []byte) (map[string]string, error) {
	if !strings.HasSuffix(strings.ToLower(filename), ".csv") {
		return task.ParseSubmission(filename, data, "id", "label")
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty CSV (no header)", filename)
	}
	head := recs[0]
	idCol, labCol := -1, len(head)-1
	for i, h := range head {
		switch strings.TrimSpace(h) {
		case "id":
			idCol = i
		case "label":
			labCol = i
		}
	}
	if idCol < 0 {
		return nil, fmt.Errorf("%s: no \"id\" column", filename)
	}
	if labCol == idCol {
		return nil, fmt.Errorf("%s: no label column besides \"id\"", filename)
	}
	out := make(map[string]string, len(recs)-1)
	for _, rec := range recs[1:] {
		out[rec[idCol]] = rec[labCol]
	}
	return out, nil
}
