package gpqa

import (
	"testing"

	"github.com/sia-agent/sia/verify"
)

// SIA's gpqa evaluate.py (hexo-ai/sia, sia/tasks/gpqa/data/public/
// evaluate.py) reads an answer with normalize_answer: strip, uppercase;
// a value that is a substring of "ABCD" is kept whole (so "" and "AB"
// too), otherwise the first character in A–D anywhere is taken. Then ""
// is missing, a value not a substring of "ABCD" invalid, the gold letter
// correct, anything else incorrect; accuracy = correct / (correct +
// incorrect): missing and invalid answers leave the denominator.
//
// We differ on purpose in two ways, each shown with both scores below:
//   - the letter: ExtractLetter reads the letter the answer states
//     ("The answer is C" is C), where SIA takes the first A–D character
//     ("THE ANSWER…" gives A);
//   - the headline accuracy is correct / all questions (an unanswered or
//     unreadable question counts as wrong, so abstaining never pays); SIA's
//     figure is reported beside it as sia_accuracy.

// TestLetterDifferences lists, per answer, what SIA's normalize_answer
// and status make of it and what ours does.
func TestLetterDifferences(t *testing.T) {
	tests := []struct {
		answer, gold         string
		siaLetter, siaStatus string // SIA's normalize_answer and status
		ours, oursStatus     string // ExtractLetter and our status
	}{
		{"C", "C", "C", "correct", "C", verify.StatusCorrect},
		{"c", "C", "C", "correct", "C", verify.StatusCorrect},
		{"(C)", "C", "C", "correct", "C", verify.StatusCorrect},
		{" D. ", "D", "D", "correct", "D", verify.StatusCorrect},
		{"**B**", "B", "B", "correct", "B", verify.StatusCorrect},
		{`{"answer": "D"}`, "D", "A", "incorrect", "D", verify.StatusCorrect}, // SIA: the A of "ANSWER"
		{"The answer is C", "C", "A", "incorrect", "C", verify.StatusCorrect},
		{"Answer: B", "B", "A", "incorrect", "B", verify.StatusCorrect},
		{`\boxed{D}`, "D", "B", "incorrect", "D", verify.StatusCorrect}, // SIA: the B of "BOXED"
		{"B or C", "C", "B", "incorrect", "", verify.StatusInvalid},
		{"AB", "A", "AB", "incorrect", "", verify.StatusInvalid},
		{"E", "A", "", "missing", "", verify.StatusInvalid},
		{"", "A", "", "missing", "", verify.StatusInvalid},
		{"I pick option b", "B", "C", "incorrect", "b", verify.StatusWrong}, // SIA: the C of "PICK"; ours keeps the stated case
	}
	for _, tc := range tests {
		if got := ExtractLetter(tc.answer); got != tc.ours {
			t.Errorf("ExtractLetter(%q) = %q, want %q (SIA reads %q)", tc.answer, got, tc.ours, tc.siaLetter)
		}
		if got := (Scorer{}).ScoreItem("q", tc.answer, tc.gold); got.Status != tc.oursStatus {
			t.Errorf("%q (gold %s): status %s, want %s (SIA: %s)", tc.answer, tc.gold, got.Status, tc.oursStatus, tc.siaStatus)
		}
	}
}

// TestAccuracyDifference scores one submission both ways: SIA's accuracy
// is 2/3 (two correct of three attempted: "E" and the empty answer are
// missing to it), ours 3/5 with SIA's figure reported as sia_accuracy,
// which is 3/3 because our reading turns SIA's wrong "The answer is C"
// into a correct C.
func TestAccuracyDifference(t *testing.T) {
	gold := map[string]string{"1": "C", "2": "C", "3": "A", "4": "A", "5": "B"}
	answers := map[string]string{"1": "C", "2": "The answer is C", "3": "E", "4": "", "5": "b"}
	const siaAccuracy = 2.0 / 3.0 // correct 1 and 5; 2 read as A (incorrect); 3 and 4 missing
	v := verify.ScorerVerifier{Spec: verify.Spec{Metric: "accuracy", Higher: true}, Scorer: Scorer{}, Aggregator: Aggregator{}}
	res, err := v.Verify(t.Context(), answers, gold)
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 3.0/5.0 {
		t.Errorf("accuracy %v, want 3/5 (SIA's evaluator: %.4f)", res.Score, siaAccuracy)
	}
	if res.Metrics["sia_accuracy"] != 1 {
		t.Errorf("sia_accuracy %v, want 3/3 under our reading of the letters", res.Metrics["sia_accuracy"])
	}
}
