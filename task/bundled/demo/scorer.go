package demo

import (
	"strings"

	"github.com/sia-agent/sia/verify"
)

// Scorer judges an answer: the whole word, compared exactly after trimming
// and lowercasing. An answer that is not one lowercase word is invalid.
type Scorer struct{}

var _ verify.Scorer = Scorer{}

// ScoreItem implements verify.Scorer. Details never reveal the gold word
// beyond its length, which the public pattern already shows.
func (Scorer) ScoreItem(_, answer, gold string) verify.ItemResult {
	a := strings.ToLower(strings.TrimSpace(answer))
	if a == "" {
		return verify.Invalid("empty answer")
	}
	for i := 0; i < len(a); i++ {
		if a[i] < 'a' || a[i] > 'z' {
			return verify.Invalid("not a single word of letters a-z")
		}
	}
	if len(a) != len(gold) {
		return verify.Judge(false, "wrong length")
	}
	return verify.Judge(a == gold, "")
}
