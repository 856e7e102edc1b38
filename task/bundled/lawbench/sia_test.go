package lawbench

import (
	"testing"

	"github.com/sia-agent/sia/verify"
)

// SIA's lawbench evaluate.py is not in the stored copy of SIA's repository
// this project reads (hexo-ai/sia holds the gpqa and spaceship-titanic
// evaluators only), so the SIA column below is its behaviour as task.md
// records it from the review that wrote this verifier: top-1 exact match
// of the charge strings over every test id (a missing id is wrong).
//
// We differ on purpose in one way: the grouping brackets of CAIL2018
// charge names ([ ] and their full-width forms ［ ］) are removed from both
// sides first, so LawBench's bracket-free names and CAIL's bracketed ones
// are the same answer. No other punctuation is normalised, in either: a
// trailing 罪 or 。 is a different answer.
func TestBracketDifferences(t *testing.T) {
	tests := []struct {
		answer, gold string
		sia, ours    string // status
	}{
		{"盗窃", "盗窃", verify.StatusCorrect, verify.StatusCorrect},
		{" 盗窃 ", "盗窃", verify.StatusCorrect, verify.StatusCorrect},
		{"盗窃罪", "盗窃", verify.StatusWrong, verify.StatusWrong},
		{"盗窃。", "盗窃", verify.StatusWrong, verify.StatusWrong},
		{"[走私、贩卖、运输、制造]毒品", "[走私、贩卖、运输、制造]毒品", verify.StatusCorrect, verify.StatusCorrect},
		{"走私、贩卖、运输、制造毒品", "[走私、贩卖、运输、制造]毒品", verify.StatusWrong, verify.StatusCorrect},
		{"［走私、贩卖、运输、制造］毒品", "[走私、贩卖、运输、制造]毒品", verify.StatusWrong, verify.StatusCorrect},
		{"[盗窃]", "盗窃", verify.StatusWrong, verify.StatusCorrect},
		{"走私,贩卖,运输,制造毒品", "[走私、贩卖、运输、制造]毒品", verify.StatusWrong, verify.StatusWrong},
	}
	siaCorrect, oursCorrect := 0, 0
	for _, tc := range tests {
		got := (Scorer{}).ScoreItem("x", tc.answer, tc.gold)
		if got.Status != tc.ours {
			t.Errorf("%q vs %q: %s, want %s (SIA: %s)", tc.answer, tc.gold, got.Status, tc.ours, tc.sia)
		}
		if tc.sia == verify.StatusCorrect {
			siaCorrect++
		}
		if got.Status == verify.StatusCorrect {
			oursCorrect++
		}
	}
	// The same nine answers as one submission: SIA 3/9, ours 6/9.
	if siaCorrect != 3 || oursCorrect != 6 {
		t.Errorf("correct: SIA %d, ours %d; want 3 and 6", siaCorrect, oursCorrect)
	}
}
