package spaceship

import (
	"embed"
	"fmt"
	"strings"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/internal/siaeval"
	"github.com/sia-agent/sia/verify"
)

// Name is the task's name in the bundled registry.
const Name = "spaceship-titanic"

//go:embed task.yaml task.md reference/harness.star
var files embed.FS

// evaluatePy is this task's scoring in SIA's evaluate.py contract, for
// the task folders `sia data export-sia` writes (siaeval adds the rest).
//
//go:embed evaluate.py
var evaluatePy []byte

// Bundle returns the task for the bundled registry.
func Bundle() *task.Bundle {
	return &task.Bundle{Name: Name, Files: files, Scorer: Scorer{}, ParseSubmission: ParseSubmission,
		EvaluatePy: siaeval.Script(evaluatePy)}
}

// ParseBool reads the boolean spellings SIA's evaluate.py accepts (its
// parse_bool): true, t, 1, yes, y and false, f, 0, no, n, in any case,
// around spaces. Anything else (1.0 included) is not a boolean.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "1", "yes", "y":
		return true, nil
	case "false", "f", "0", "no", "n":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/false, t/f, yes/no, y/n, 1/0)", s)
}

// Scorer compares a predicted Transported value with the gold one.
type Scorer struct{}

var _ verify.Scorer = Scorer{}

// ScoreItem implements verify.Scorer.
func (Scorer) ScoreItem(_, answer, gold string) verify.ItemResult {
	a, err := ParseBool(answer)
	if err != nil {
		return verify.Invalid("not a boolean (want True/False, t/f, yes/no, y/n or 1/0)")
	}
	g, err := ParseBool(gold)
	if err != nil {
		return verify.ItemResult{Status: verify.StatusError, Detail: "gold label is not a boolean"}
	}
	return verify.Judge(a == g, "")
}

// ParseSubmission reads a Kaggle-style submission.csv
// (PassengerId,Transported). JSON submissions use the generic reader.
func ParseSubmission(filename string, data []byte) (map[string]string, error) {
	return task.ParseSubmission(filename, data, "PassengerId", "Transported")
}
