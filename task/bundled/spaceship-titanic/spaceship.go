package spaceship

import (
	"embed"
	"fmt"
	"strings"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

// Name is the task's name in the bundled registry.
const Name = "spaceship-titanic"

//go:embed task.yaml task.md reference/harness.star
var files embed.FS

// Bundle returns the task for the bundled registry.
func Bundle() *task.Bundle {
	return &task.Bundle{Name: Name, Files: files, Scorer: Scorer{}, ParseSubmission: ParseSubmission}
}

// ParseBool reads SIA's boolean spellings: True/False in any case, 1/0,
// 1.0/0.0. Anything else is not a boolean.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "1.0":
		return true, nil
	case "false", "0", "0.0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not True/False/1/0", s)
}

// Scorer compares a predicted Transported value with the gold one.
type Scorer struct{}

var _ verify.Scorer = Scorer{}

// ScoreItem implements verify.Scorer.
func (Scorer) ScoreItem(_, answer, gold string) verify.ItemResult {
	a, err := ParseBool(answer)
	if err != nil {
		return verify.Invalid("not a boolean (want True/False/1/0)")
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
