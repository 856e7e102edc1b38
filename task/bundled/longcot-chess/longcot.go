package longcotchess

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sia-agent/sia/chess"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/internal/siaeval"
	"github.com/sia-agent/sia/verify"
)

// Name is the task's name in the bundled registry.
const Name = "longcot-chess"

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

// Templates of LongCoT chess questions.
const (
	KnightPath = "knight_path"
	Best3Moves = "best_3_moves"
)

var solutionRe = regexp.MustCompile(`(?is)solution\s*[=:]\s*(\[[^\]]*\]|[^\n]+)`)

// Answer is a parsed answer: an integer (knight_path) or a move list.
type Answer struct {
	IsInt bool
	Int   int64
	Moves []string
}

// ParseAnswer reads an answer as a harness or a submission gives it:
// "solution = 218", "218", `solution = ["c4", "bxc4", "bxc4"]`,
// "solution = [c4, bxc4, bxc4]", a JSON list, or moves separated by spaces
// or commas. When the text holds several "solution =" lines the last wins.
func ParseAnswer(s string) (Answer, error) {
	s = strings.TrimSpace(s)
	if ms := solutionRe.FindAllStringSubmatch(s, -1); ms != nil {
		s = strings.TrimSpace(ms[len(ms)-1][1])
	}
	s = strings.Trim(s, "`* \t")
	if s == "" {
		return Answer{}, fmt.Errorf("empty answer")
	}
	if n, ok := parseInt(s); ok {
		return Answer{IsInt: true, Int: n}, nil
	}
	var list []any
	if json.Unmarshal([]byte(strings.ReplaceAll(s, "'", `"`)), &list) == nil {
		a := Answer{}
		for _, v := range list {
			switch x := v.(type) {
			case string:
				a.Moves = append(a.Moves, strings.TrimSpace(x))
			case float64:
				a.Moves = append(a.Moves, strconv.FormatFloat(x, 'f', -1, 64))
			default:
				return Answer{}, fmt.Errorf("list element %v is not a move", v)
			}
		}
		return a, nil
	}
	body := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	fields := strings.FieldsFunc(body, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	a := Answer{}
	for _, f := range fields {
		f = strings.Trim(f, `"'`)
		if f == "" {
			continue
		}
		if !sanLike.MatchString(chess.StripSANSuffix(f)) {
			return Answer{}, fmt.Errorf("%q is neither an integer nor a move list", s)
		}
		a.Moves = append(a.Moves, f)
	}
	if len(a.Moves) == 0 {
		return Answer{}, fmt.Errorf("%q is neither an integer nor a move list", s)
	}
	return a, nil
}

var sanLike = regexp.MustCompile(`^(?:[NBRQK]?[a-h]?[1-8]?x?[a-h][1-8](?:=?[NBRQ])?|[O0]-[O0](?:-[O0])?|[a-h][1-8][a-h][1-8][nbrq]?)$`)

func parseInt(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		return int64(f), true
	}
	return 0, false
}

// Scorer implements LongCoT's comparison: knight_path answers as integers;
// best_3_moves answers move by move, in order, after StripSANSuffix.
type Scorer struct{}

var _ verify.Scorer = Scorer{}

// ScoreItem implements verify.Scorer. The gold is an integer or a JSON
// list of SAN moves (private/answers.json as the loader renders it).
func (Scorer) ScoreItem(_, answer, gold string) verify.ItemResult {
	g, err := ParseAnswer(gold)
	if err != nil {
		return verify.ItemResult{Status: verify.StatusError, Detail: "gold answer is unreadable"}
	}
	a, err := ParseAnswer(answer)
	if err != nil {
		return verify.Invalid("no integer or move list found")
	}
	if g.IsInt {
		if !a.IsInt {
			return verify.Invalid("knight_path wants an integer")
		}
		return verify.Judge(a.Int == g.Int, "")
	}
	if a.IsInt {
		return verify.Invalid("best_3_moves wants a list of moves")
	}
	if len(a.Moves) != len(g.Moves) {
		return verify.Judge(false, fmt.Sprintf("%d moves given, %d wanted", len(a.Moves), len(g.Moves)))
	}
	for i := range g.Moves {
		if chess.StripSANSuffix(a.Moves[i]) != chess.StripSANSuffix(g.Moves[i]) {
			return verify.Judge(false, fmt.Sprintf("move %d differs", i+1))
		}
	}
	return verify.Judge(true, "")
}

// Aggregator reports accuracy over all questions (0–1), per template, and
// SIA's figure: 100 × correct / number of answers submitted.
type Aggregator struct{}

var _ verify.Aggregator = Aggregator{}

// Aggregate implements verify.Aggregator.
func (Aggregator) Aggregate(items []verify.ItemResult, gold map[string]string) map[string]float64 {
	type acc struct{ ok, n int }
	per := map[string]*acc{KnightPath: {}, Best3Moves: {}}
	correct, answered := 0, 0
	for _, it := range items {
		tpl := Best3Moves
		if g, err := ParseAnswer(gold[it.ID]); err == nil && g.IsInt {
			tpl = KnightPath
		}
		per[tpl].n++
		if it.Status != verify.StatusMissing {
			answered++
		}
		if it.Status == verify.StatusCorrect {
			per[tpl].ok++
			correct++
		}
	}
	out := map[string]float64{"correct": float64(correct), "total": float64(len(items))}
	if len(items) > 0 {
		out["accuracy"] = float64(correct) / float64(len(items))
	}
	for tpl, a := range per {
		if a.n > 0 {
			out["accuracy_"+tpl] = float64(a.ok) / float64(a.n)
			out["n_"+tpl] = float64(a.n)
		}
	}
	if answered > 0 {
		out["sia_accuracy_percent"] = 100 * float64(correct) / float64(answered)
	}
	return out
}

// ParseSubmission reads SIA's responses.json: a list of
// {question_id, solution, …} where solution is an integer, a list of SAN
// moves, or null (then the answer is empty, which scores invalid); a
// record without "solution" is read from "answer" (the gold file's column,
// as sia writes submissions for an evaluate.py). A JSON object id → answer
// and CSV files use the generic reader.
func ParseSubmission(filename string, data []byte) (map[string]string, error) {
	var rows []map[string]json.RawMessage
	if !strings.HasSuffix(strings.ToLower(filename), ".json") || json.Unmarshal(data, &rows) != nil {
		return task.ParseSubmission(filename, data, "question_id", "solution")
	}
	out := make(map[string]string, len(rows))
	for i, r := range rows {
		var id string
		if err := json.Unmarshal(r["question_id"], &id); err != nil || id == "" {
			return nil, fmt.Errorf("%s: response %d has no question_id string", filename, i+1)
		}
		sol, ok := r["solution"]
		if !ok {
			sol = r["answer"] // the gold's own column, as sia writes a submission for an evaluate.py
		}
		if len(sol) == 0 || string(sol) == "null" {
			out[id] = ""
			continue
		}
		var s string
		if json.Unmarshal(sol, &s) == nil {
			out[id] = s
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, sol); err != nil {
			return nil, fmt.Errorf("%s: response %d: %w", filename, i+1, err)
		}
		out[id] = compact.String() // integer or list, as JSON text
	}
	return out, nil
}
