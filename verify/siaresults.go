package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sia-agent/sia/runstore"
	"math"
	"sort"
	"strconv"
	"strings"
)

// siaScoreKeys are the keys SIA's orchestrator tries, in order, for a
// generation's score when the task names none (orchestrator.py
// _read_score).
var siaScoreKeys = []string{"accuracy", "score", "f1", "reward", "loss"}

// ErrNoScore is returned for a results.json that holds no score.
var ErrNoScore = errors.New(runstore.ResultsFile + " holds no score")

// ParseSIAResults reads a results.json written by a SIA evaluate.py into a
// Result for the ids of gold:
//
//	{"summary": {"accuracy": 0.5, …}, "items": [{"id", "status", "output", "detail"}, …]}
//
// The metric is summary[spec.Metric], else the top-level key of that name
// (older evaluators write their scalars at the top), else the first of
// SIA's score keys present (accuracy, score, f1, reward, loss); Result.Metric
// says which was read. Every number in summary (or at the top) becomes a
// metric. Lists other than items[] (a "details" list may carry gold) are
// never read.
//
// items[] statuses map to verify's: CORRECT, PASS, PASSED and OK are
// correct (reward 1); WRONG, INCORRECT, FAIL and FAILED wrong; MISSING
// missing; INVALID invalid; PARTIAL partial; anything with ERROR or
// TIMEOUT in it error; any other status wrong, named in the detail. A
// numeric "reward" or "score" on an item overrides the status's reward. An
// id of gold the evaluator gave no verdict for is an error item. answers
// supply each item's output (the answer as submitted); the evaluator's
// detail is kept unless it names the gold answer.
func ParseSIAResults(b []byte, spec Spec, answers, gold map[string]string) (*Result, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("parse %s: %w", runstore.ResultsFile, err)
	}
	if top == nil {
		return nil, fmt.Errorf("parse %s: want a JSON object", runstore.ResultsFile)
	}
	metrics := map[string]float64{}
	summary, _ := top["summary"].(map[string]any)
	scalars := func(m map[string]any) {
		for k, v := range m {
			if f, ok := number(v); ok {
				if _, taken := metrics[k]; !taken {
					metrics[k] = f
				}
			}
		}
	}
	scalars(summary)
	scalars(top)
	metric := spec.Metric
	score, ok := metrics[metric]
	if !ok {
		for _, k := range siaScoreKeys {
			if score, ok = metrics[k]; ok {
				metric = k
				break
			}
		}
	}
	if !ok {
		keys := make([]string, 0, len(metrics))
		for k := range metrics {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("%w: no %q in summary or at the top (numbers found: %s)", ErrNoScore, spec.Metric, strings.Join(keys, ", "))
	}

	type verdict struct {
		ItemResult
		read string // the evaluator's "output": the answer as it read it
	}
	verdicts := map[string]verdict{}
	if raw, ok := top["items"].([]any); ok {
		for _, e := range raw {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			id := idText(m["id"])
			if _, want := gold[id]; !want {
				continue
			}
			it, read := siaItem(m)
			verdicts[id] = verdict{it, read}
		}
	}
	ids := make([]string, 0, len(gold))
	for id := range gold {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	items := make([]ItemResult, 0, len(ids))
	for _, id := range ids {
		v, ok := verdicts[id]
		it := v.ItemResult
		if !ok {
			it = ItemResult{Status: StatusError, Detail: "evaluate.py gave no verdict for this item"}
		}
		it.ID = id
		ans, answered := answers[id]
		if answered {
			it.Output = Truncate(ans, MaxOutput)
		}
		if v.read != "" && (!answered || strings.TrimSpace(v.read) != strings.TrimSpace(ans)) {
			it.Detail = strings.TrimPrefix(it.Detail+"; read as "+Truncate(v.read, 80), "; ")
		}
		it.Detail = withoutGold(Truncate(it.Detail, 300), gold[id], it.Status)
		items = append(items, it)
	}
	r := &Result{FormatVersion: FormatVersion, Task: spec.Task, Split: spec.Split, Metric: metric,
		Score: score, Higher: spec.Higher && metric != "loss", N: len(items), Counts: map[string]int{},
		Metrics: metrics, Items: items}
	sum := 0.0
	for _, it := range items {
		r.Counts[it.Status]++
		sum += it.Reward
	}
	if len(items) > 0 {
		r.Metrics["mean_reward"] = sum / float64(len(items))
	}
	return r, nil
}

// siaItem maps one items[] entry; read is its "output" as text.
func siaItem(m map[string]any) (it ItemResult, read string) {
	status := strings.TrimSpace(fmt.Sprint(m["status"]))
	switch up := strings.ToUpper(status); {
	case up == "CORRECT" || up == "PASS" || up == "PASSED" || up == "OK":
		it.Status, it.Reward = StatusCorrect, 1
	case up == "WRONG" || up == "INCORRECT" || up == "FAIL" || up == "FAILED":
		it.Status = StatusWrong
	case up == "MISSING":
		it.Status = StatusMissing
	case up == "INVALID":
		it.Status = StatusInvalid
	case up == "PARTIAL":
		it.Status = StatusPartial
	case strings.Contains(up, "ERROR") || strings.Contains(up, "TIMEOUT"):
		it.Status = StatusError
	default:
		it.Status = StatusWrong
		it.Detail = "evaluate.py status " + status
	}
	for _, k := range []string{"reward", "score"} {
		if f, ok := number(m[k]); ok {
			it.Reward = f
			break
		}
	}
	if d, ok := m["detail"]; ok && d != nil && text(d) != "" {
		it.Detail = strings.TrimPrefix(it.Detail+"; "+text(d), "; ")
	}
	if o, ok := m["output"]; ok && o != nil {
		read = text(o)
	}
	return it, read
}

// withoutGold drops a detail that names the gold answer of an item not
// answered correctly: results.json reaches agents, and SIA's items[]
// contract (no gold) is the evaluator's promise, not ours.
func withoutGold(detail, gold, status string) string {
	g := strings.TrimSpace(gold)
	if g == "" || status == StatusCorrect || detail == "" {
		return detail
	}
	d := strings.TrimSpace(detail)
	if strings.EqualFold(d, g) || (len(g) >= 3 && strings.Contains(strings.ToLower(d), strings.ToLower(g))) {
		return "(evaluate.py's detail withheld: it names the gold answer)"
	}
	return detail
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case float64:
		return x, true
	}
	return 0, false
}

// idText renders an item id as the task keys it: strings as they are,
// integral numbers without a decimal point.
func idText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return strconv.FormatInt(i, 10)
		}
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10)
		}
		return x.String()
	case nil:
		return ""
	}
	return text(v)
}

// text renders any JSON value as a line of text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
