package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// Item statuses.
const (
	StatusCorrect = "correct" // full reward
	StatusPartial = "partial" // some reward
	StatusWrong   = "wrong"   // a well-formed answer that is wrong
	StatusInvalid = "invalid" // an answer that could not be parsed
	StatusMissing = "missing" // no answer for this id
	StatusError   = "error"   // the harness failed on this item
)

// FormatVersion of results.json.
const FormatVersion = 1

// ItemResult is the verdict on one item. It never contains the gold answer.
type ItemResult struct {
	ID     string  `json:"id"`
	Status string  `json:"status"`
	Reward float64 `json:"reward"`
	Output string  `json:"output"`           // the answer as submitted (truncated)
	Detail string  `json:"detail,omitempty"` // gold-free explanation, e.g. "parsed letter C"
}

// Result is the verdict on a split. Metrics are the top-level scalars of
// results.json, Score is Metrics[Metric].
type Result struct {
	FormatVersion int                `json:"format_version"`
	Task          string             `json:"task"`
	Split         string             `json:"split"`
	Metric        string             `json:"metric"`
	Score         float64            `json:"score"`
	Higher        bool               `json:"higher_is_better"`
	N             int                `json:"n"`
	Counts        map[string]int     `json:"counts"` // per status
	Metrics       map[string]float64 `json:"metrics,omitempty"`
	Items         []ItemResult       `json:"items"`
}

// Better reports whether score a beats score b under this result's direction.
func Better(a, b float64, higher bool) bool {
	if higher {
		return a > b
	}
	return a < b
}

// MarshalJSON flattens Metrics into the top level, as SIA's results.json has
// its metric scalars at the top.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	b, err := json.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	if len(r.Metrics) == 0 {
		return b, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range r.Metrics {
		if _, taken := m[k]; taken {
			continue
		}
		m[k], _ = json.Marshal(v)
	}
	return json.Marshal(m)
}

// Scorer judges one answer against its gold label. Implementations are pure:
// the same answer and gold always give the same ItemResult. The returned
// ItemResult's Detail must not reveal gold.
type Scorer interface {
	ScoreItem(id, answer, gold string) ItemResult
}

// Aggregator turns per-item results into the split's metrics. The default
// (nil) aggregator reports the mean reward as the metric.
type Aggregator interface {
	Aggregate(items []ItemResult, gold map[string]string) map[string]float64
}

// Verifier scores a split: answers by id against gold by id. An id in gold
// with no answer is "missing"; answers for ids not in gold are ignored.
type Verifier interface {
	Verify(ctx context.Context, answers map[string]string, gold map[string]string) (*Result, error)
}

// Spec describes a metric.
type Spec struct {
	Task   string
	Split  string
	Metric string // e.g. "accuracy"
	Higher bool
}

// ScorerVerifier is a Verifier built from a per-item Scorer and an optional
// Aggregator.
type ScorerVerifier struct {
	Spec       Spec
	Scorer     Scorer
	Aggregator Aggregator
}

var _ Verifier = ScorerVerifier{}

// MaxOutput bounds the answer text copied into results.json.
const MaxOutput = 500

// Verify implements Verifier.
func (v ScorerVerifier) Verify(ctx context.Context, answers, gold map[string]string) (*Result, error) {
	ids := make([]string, 0, len(gold))
	for id := range gold {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	items := make([]ItemResult, 0, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ans, ok := answers[id]
		var ir ItemResult
		if !ok {
			ir = ItemResult{ID: id, Status: StatusMissing, Detail: "no answer"}
		} else {
			ir = v.Scorer.ScoreItem(id, ans, gold[id])
			ir.ID = id
			ir.Output = Truncate(ans, MaxOutput)
		}
		items = append(items, ir)
	}
	return Summarize(v.Spec, items, gold, v.Aggregator), nil
}

// Summarize builds a Result from item results: counts per status, mean
// reward as "mean_reward", plus the aggregator's metrics. Without an
// aggregator the metric is the mean reward.
func Summarize(spec Spec, items []ItemResult, gold map[string]string, agg Aggregator) *Result {
	r := &Result{
		FormatVersion: FormatVersion,
		Task:          spec.Task,
		Split:         spec.Split,
		Metric:        spec.Metric,
		Higher:        spec.Higher,
		N:             len(items),
		Counts:        map[string]int{},
		Metrics:       map[string]float64{},
		Items:         items,
	}
	sum := 0.0
	for _, it := range items {
		r.Counts[it.Status]++
		sum += it.Reward
	}
	mean := 0.0
	if len(items) > 0 {
		mean = sum / float64(len(items))
	}
	r.Metrics["mean_reward"] = mean
	if agg != nil {
		for k, v := range agg.Aggregate(items, gold) {
			r.Metrics[k] = v
		}
	}
	if s, ok := r.Metrics[spec.Metric]; ok {
		r.Score = s
	} else {
		r.Score = mean
		r.Metrics[spec.Metric] = mean
	}
	return r
}

// Truncate shortens s to at most n bytes on a rune boundary, marking the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// Reward helpers for binary scorers.
func Judge(ok bool, detail string) ItemResult {
	if ok {
		return ItemResult{Status: StatusCorrect, Reward: 1, Detail: detail}
	}
	return ItemResult{Status: StatusWrong, Reward: 0, Detail: detail}
}

// Invalid marks an unparseable answer.
func Invalid(detail string) ItemResult {
	return ItemResult{Status: StatusInvalid, Detail: detail}
}

// errorf keeps error text uniform.
func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
