package gpqa

import (
	"embed"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/internal/siaeval"
	"github.com/sia-agent/sia/verify"
)

// Name is the task's name in the bundled registry.
const Name = "gpqa"

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

var (
	// A bare letter, perhaps decorated: "C", "(C)", "C)", "C.", "**C**", "[C]".
	bareRe = regexp.MustCompile(`^[\s*_"'(\[{]*([A-Da-d])[\s*_"')\]}.:]*$`)
	// Explicit statements; the last one in the text wins.
	statedRe = regexp.MustCompile(`(?i)(?:answer|choice|option|solution)\s*(?:is|:|=|would be|should be)?\s*(?:option|choice)?\s*[*_"'(\[{]*\s*([A-D])\b`)
	boxedRe  = regexp.MustCompile(`\\boxed\s*\{\s*(?:\\text\s*\{\s*)?\(?([A-D])\)?\s*\}?\s*\}`)
	jsonRe   = regexp.MustCompile(`\{[^{}]*"answer"\s*:\s*"\s*\(?([A-Da-d])\)?\s*"[^{}]*\}`)
	// A line starting "C)" or "(C)" at the very end, e.g. a final line that restates an option.
	lastLineRe = regexp.MustCompile(`^\(?([A-D])[).:]`)
)

// ExtractLetter finds the chosen option letter in an answer. Unlike SIA's
// normalize_answer, which takes the first A–D character anywhere (so "The
// answer is C" reads as A, from "ANSWER"), it looks for a bare letter, a
// JSON {"answer": "C"}, \boxed{C}, or the last explicit "answer is C" /
// "Answer: C". It returns "" when no choice can be read.
func ExtractLetter(s string) string {
	s = strings.TrimSpace(s)
	if m := bareRe.FindStringSubmatch(s); m != nil {
		return strings.ToUpper(m[1])
	}
	if m := jsonRe.FindAllStringSubmatch(s, -1); m != nil {
		return strings.ToUpper(m[len(m)-1][1])
	}
	if m := boxedRe.FindAllStringSubmatch(s, -1); m != nil {
		return m[len(m)-1][1]
	}
	if m := statedRe.FindAllStringSubmatch(s, -1); m != nil {
		return m[len(m)-1][1]
	}
	lines := strings.Split(s, "\n")
	if m := lastLineRe.FindStringSubmatch(strings.TrimSpace(lines[len(lines)-1])); m != nil {
		return m[1]
	}
	return ""
}

// Scorer compares the extracted letter with the gold letter.
type Scorer struct{}

var _ verify.Scorer = Scorer{}

// ScoreItem implements verify.Scorer.
func (Scorer) ScoreItem(_, answer, gold string) verify.ItemResult {
	l := ExtractLetter(answer)
	if l == "" {
		return verify.Invalid("no option letter A-D found")
	}
	g := strings.ToUpper(strings.TrimSpace(gold))
	return verify.Judge(l == g, "parsed letter "+l)
}

// Aggregator reports accuracy over all questions (missing and invalid
// count as wrong) and SIA's figures: correct / attempted, where attempted
// is correct + wrong, as sia_accuracy and sia_accuracy_percent.
type Aggregator struct{}

var _ verify.Aggregator = Aggregator{}

// Aggregate implements verify.Aggregator.
func (Aggregator) Aggregate(items []verify.ItemResult, _ map[string]string) map[string]float64 {
	var correct, wrong int
	for _, it := range items {
		switch it.Status {
		case verify.StatusCorrect:
			correct++
		case verify.StatusWrong:
			wrong++
		}
	}
	out := map[string]float64{
		"correct":   float64(correct),
		"attempted": float64(correct + wrong),
		"total":     float64(len(items)),
		"accuracy":  0,
	}
	if len(items) > 0 {
		out["accuracy"] = float64(correct) / float64(len(items))
	}
	if correct+wrong > 0 {
		out["sia_accuracy"] = float64(correct) / float64(correct+wrong)
		out["sia_accuracy_percent"] = 100 * out["sia_accuracy"]
	}
	return out
}

// siaMetaKeys are top-level keys of a flat submission that are not
// question ids (the list SIA's evaluate.py skips).
var siaMetaKeys = map[string]bool{"model": true, "dataset_config": true, "timestamp": true, "total_questions": true,
	"correct": true, "incorrect": true, "accuracy": true, "total_cost_usd": true, "total_input_tokens": true,
	"total_output_tokens": true, "total_reasoning_tokens": true}

// ParseSubmission reads the three JSON shapes SIA's evaluate.py accepts:
//
//	{"details": [{"question_id": 1, "model_answer": "A"}, …]}
//	{"answers": {"1": "A", …}}
//	{"1": "A", "2": "B", …}  (metadata keys such as "model" ignored)
//
// and arrays of records {id, answer} or {id, correct_answer_letter}.
// Answers are kept raw; the scorer extracts the letter. CSV submissions
// (id,answer) use the generic reader.
func ParseSubmission(filename string, data []byte) (map[string]string, error) {
	if !strings.HasSuffix(strings.ToLower(filename), ".json") {
		return task.ParseSubmission(filename, data, "id", "answer")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		// Not an object: an array of records with the id and "answer", or
		// the gold's own columns (id, correct_answer_letter), which is how
		// sia writes a submission for an evaluate.py.
		return task.ParseSubmission(filename, data, "id", "correct_answer_letter")
	}
	out := map[string]string{}
	switch {
	case top["details"] != nil:
		var details []map[string]any
		if err := json.Unmarshal(top["details"], &details); err != nil {
			return nil, errorf(filename, `"details" is not a list of objects: %v`, err)
		}
		for _, d := range details {
			id, ok := d["question_id"]
			if !ok || id == nil {
				continue
			}
			out[scalar(id)] = scalar(d["model_answer"])
		}
	case top["answers"] != nil:
		var answers map[string]any
		if err := json.Unmarshal(top["answers"], &answers); err != nil {
			return nil, errorf(filename, `"answers" is not an object: %v`, err)
		}
		for k, v := range answers {
			out[strings.TrimSpace(k)] = scalar(v)
		}
	default:
		for k, raw := range top {
			if siaMetaKeys[k] {
				continue
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				continue
			}
			if _, isObj := v.(map[string]any); isObj {
				continue
			}
			out[strings.TrimSpace(k)] = scalar(v)
		}
	}
	return out, nil
}
