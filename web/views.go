package web

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// genRow is one generation in a run's table.
type genRow struct {
	Gen            int
	Action         string
	Algorithm      string
	Score          *float64
	Best           bool // the incumbent at the end (so far)
	Parent         int
	Tokens         int
	Seconds        float64
	CostUSD        float64
	AdapterVersion int
	HarnessSHA     string
}

// chip is one generation on the lever timeline.
type chip struct {
	Gen       int
	Action    string
	Algorithm string
	Best      bool
}

// decisionView is a decision file with the generation it belongs to.
type decisionView struct {
	Gen  int
	Kind string // "made" (gen_<n>/decision.json) or "after" (feedback.json)
	*report.Decision
}

// ShowStats is false for a decision made without rollouts (the initial
// harness): its reward statistics are all zero.
func (d decisionView) ShowStats() bool {
	for _, f := range d.RewardStats {
		if f.Key == "n" {
			return f.Num != nil && *f.Num > 0
		}
	}
	return false
}

// panel is one metric of a training curve.
type panel struct {
	Metric      string
	First, Last float64
	Min, Max    float64
	Steps       int
	Chart       template.HTML
}

// curveView is one training log.
type curveView struct {
	Gen       int
	Algorithm string
	File      string
	Steps     int
	Panels    []panel
}

// diffForm picks two generations to compare.
type diffForm struct {
	Gens     []int
	From, To int
}

// runView is the run overview.
type runView struct {
	Name       string
	Config     report.Config
	Summary    *report.Summary
	Finished   bool
	Status     string
	Updated    string
	NextSeq    int
	Rows       []genRow
	Chart      template.HTML
	Timeline   []chip
	Decisions  []decisionView
	Curves     []curveView
	Diff       diffForm
	Seconds    float64
	Incomplete string // what the latest generation is doing, if unfinished
}

func (s *Server) buildRun(r *report.Run) (*runView, error) {
	v := &runView{Name: r.Name, Config: r.Config, Summary: r.Summary, Finished: r.Summary.Finished,
		Updated: report.Age(r.Updated, s.cfg.Now()), NextSeq: len(r.Events)}
	v.Status = report.StatusUnfinished
	if v.Finished {
		v.Status = "finished"
		if r.Summary.Reason != "" {
			v.Status += ": " + r.Summary.Reason
		}
	}
	v.Rows = rows(r)
	for _, row := range v.Rows {
		v.Seconds += row.Seconds
		v.Timeline = append(v.Timeline, chip{Gen: row.Gen, Action: row.Action, Algorithm: row.Algorithm, Best: row.Best})
	}
	if g := r.State.Last(); g != nil && !v.Finished {
		v.Incomplete = progressOf(g.Gen, g.HarnessReady, g.AdapterReady, g.RolledOut, g.Verified, g.Decided)
	}
	v.Chart = scoreChart(r, v.Rows).SVG()
	for _, row := range v.Rows {
		d, err := r.Decision(row.Gen)
		if err != nil {
			return nil, err
		}
		if d != nil {
			v.Decisions = append(v.Decisions, decisionView{Gen: row.Gen, Kind: "made", Decision: d})
		}
	}
	if last := r.State.Last(); last != nil && last.Decided && last.NextAction == "stop" {
		d, err := r.Feedback(last.Gen)
		if err != nil {
			return nil, err
		}
		if d != nil {
			v.Decisions = append(v.Decisions, decisionView{Gen: last.Gen, Kind: "after", Decision: d})
		}
	}
	for _, row := range v.Rows {
		if row.Action != "weights" {
			continue
		}
		cs, err := curveViews(r, row, []string{"loss", "reward", "kl", "grad_norm"})
		if err != nil {
			return nil, err
		}
		v.Curves = append(v.Curves, cs...)
	}
	v.Diff = defaultDiff(v.Rows)
	return v, nil
}

func progressOf(gen int, harnessReady, adapterReady, rolledOut, verified, decided bool) string {
	switch {
	case !harnessReady:
		return fmt.Sprintf("gen %d: writing its harness", gen)
	case !adapterReady:
		return fmt.Sprintf("gen %d: training its adapter", gen)
	case !rolledOut:
		return fmt.Sprintf("gen %d: rolling out on val", gen)
	case !verified:
		return fmt.Sprintf("gen %d: scoring", gen)
	case !decided:
		return fmt.Sprintf("gen %d: deciding the next lever (or the test score)", gen)
	}
	return ""
}

// rows joins the summary with the replayed state (parents).
func rows(r *report.Run) []genRow {
	var out []genRow
	for i, g := range r.Summary.Generations {
		row := genRow{Gen: g.Gen, Action: g.Action, Score: g.Score, Tokens: g.Tokens, Seconds: g.DurationS,
			CostUSD: g.CostUSD, AdapterVersion: g.AdapterVersion, HarnessSHA: g.HarnessSHA}
		if g.Algorithm != nil {
			row.Algorithm = string(*g.Algorithm)
		}
		if i < len(r.State.Gens) {
			row.Parent = r.State.Gens[i].Parent
		}
		row.Best = r.Summary.Best != nil && r.Summary.Best.Gen == g.Gen
		out = append(out, row)
	}
	return out
}

// scoreChart draws val per generation, the incumbent after each, and the
// test score at the final incumbent.
func scoreChart(r *report.Run, rows []genRow) chart {
	higher := r.Config.Higher()
	maxGen := max(len(rows), r.Config.MaxGen)
	c := chart{ID: "score-chart", Title: "val " + r.Config.Metric + " per generation", W: 880, H: 300,
		XLabel: "generation", IntegerX: true, XMin: 0.5, XMax: float64(maxGen) + 0.5}
	val := series{Name: "val", Class: "s-val", Line: true, Marker: "circle"}
	inc := series{Name: "incumbent", Class: "s-inc", Step: true}
	best := math.NaN()
	for _, row := range rows {
		if row.Score == nil {
			continue
		}
		sc := *row.Score
		val.Points = append(val.Points, point{X: float64(row.Gen), Y: sc,
			Title: fmt.Sprintf("gen %d · %s · val %.4f", row.Gen, row.Action, sc),
			Data:  map[string]string{"gen": fmt.Sprint(row.Gen), "score": fullNum(sc), "action": row.Action}})
		if math.IsNaN(best) || higher && sc > best || !higher && sc < best {
			best = sc
		}
		inc.Points = append(inc.Points, point{X: float64(row.Gen), Y: best,
			Title: fmt.Sprintf("incumbent after gen %d: %.4f", row.Gen, best),
			Data:  map[string]string{"gen": fmt.Sprint(row.Gen), "score": fullNum(best)}})
	}
	c.Series = []series{inc, val}
	if t, b := r.Summary.TestScore, r.Summary.Best; t != nil && b != nil {
		c.Series = append(c.Series, series{Name: "test", Class: "s-test", Marker: "diamond", Points: []point{{
			X: float64(b.Gen), Y: *t, Title: fmt.Sprintf("held-out test of gen %d: %.4f", b.Gen, *t),
			Data: map[string]string{"gen": fmt.Sprint(b.Gen), "score": fullNum(*t)}}}})
	}
	return c
}

// curveViews draws a weights generation's training logs; only names the
// metrics to draw (nil: all).
func curveViews(r *report.Run, row genRow, only []string) ([]curveView, error) {
	curves, err := r.TrainCurves(row.Gen)
	if err != nil {
		return nil, err
	}
	var out []curveView
	for ci, c := range curves {
		cv := curveView{Gen: row.Gen, Algorithm: row.Algorithm, File: c.File, Steps: len(c.Steps)}
		for _, s := range c.Series {
			if only != nil && !contains(only, s.Name) {
				continue
			}
			p := panel{Metric: s.Name, First: s.First(), Last: s.Last(), Min: math.Inf(1), Max: math.Inf(-1)}
			sr := series{Name: s.Name, Class: "s-curve", Line: true}
			if len(c.Steps) <= 60 {
				sr.Marker = "circle"
			}
			for i, y := range s.Values {
				if math.IsNaN(y) {
					continue
				}
				p.Steps++
				p.Min, p.Max = math.Min(p.Min, y), math.Max(p.Max, y)
				sr.Points = append(sr.Points, point{X: c.Steps[i], Y: y,
					Title: fmt.Sprintf("step %s · %s %s", report.FormatNum(c.Steps[i]), s.Name, report.FormatNum(y)),
					Data:  map[string]string{"step": fullNum(c.Steps[i]), "value": fullNum(y)}})
			}
			ch := chart{ID: fmt.Sprintf("curve-%d-%d-%s", row.Gen, ci, s.Name), Title: s.Name, W: 262, H: 160,
				XLabel: "step", Series: []series{sr}}
			p.Chart = ch.SVG()
			cv.Panels = append(cv.Panels, p)
		}
		out = append(out, cv)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// defaultDiff compares the latest harness edit with its parent.
func defaultDiff(rows []genRow) diffForm {
	f := diffForm{From: 1, To: 1}
	for _, row := range rows {
		f.Gens = append(f.Gens, row.Gen)
		if row.Action == "harness" {
			f.From, f.To = max(1, row.Parent), row.Gen
		}
	}
	if f.To == 1 && len(rows) > 1 {
		f.To = rows[len(rows)-1].Gen
	}
	return f
}

// genView is one generation's page.
type genView struct {
	Run         string
	Row         genRow
	Prev, Next  int
	Decision    *report.Decision
	Feedback    *report.Decision
	Improvement string
	Results     *verify.Result
	Counts      []kv
	Curves      []curveView
	HarnessFile string
	Code        []string
	Knobs       []kv
	HasRollouts bool
}

type kv struct {
	Key   string
	Value string
}

// itemRow is one item in a generation's rollouts.
type itemRow struct {
	ID       string
	Samples  int
	Mean     float64
	Statuses string
	Answer   string
	Errors   int
	Seconds  float64
	Status   string // of the first sample
}

type rolloutsView struct {
	Run       string
	Gen       int
	Items     []itemRow
	Filter    string
	Statuses  []string
	Page      int
	Pages     int
	Total     int
	Shown     int
	PrevPage  int
	NextPage  int
	PageSize  int
	MeanScore float64
}

// itemRows groups trajectories by item, in first-seen order.
func itemRows(trajs []trajectory.Trajectory) []itemRow {
	var out []itemRow
	index := map[string]int{}
	counts := map[string]map[string]int{}
	for _, t := range trajs {
		i, ok := index[t.Item]
		if !ok {
			i = len(out)
			index[t.Item] = i
			out = append(out, itemRow{ID: t.Item, Answer: t.Answer, Status: t.Status})
			counts[t.Item] = map[string]int{}
		}
		row := &out[i]
		row.Samples++
		row.Mean += t.Reward
		row.Seconds += t.DurationS
		if t.Error != "" {
			row.Errors++
		}
		counts[t.Item][t.Status]++
	}
	for i := range out {
		row := &out[i]
		row.Mean /= float64(row.Samples)
		var parts []string
		for st, n := range counts[row.ID] {
			parts = append(parts, fmt.Sprintf("%s ×%d", st, n))
		}
		sort.Strings(parts)
		row.Statuses = strings.Join(parts, ", ")
	}
	return out
}

// itemView is one item's samples.
type itemView struct {
	Run     string
	Gen     int
	ID      string
	Result  *verify.ItemResult
	Samples []sampleView
}

type sampleView struct {
	Sample     int
	Status     string
	Reward     float64
	Answer     string
	Error      string
	Seconds    float64
	Adapter    int
	HarnessSHA string
	Split      string
	Steps      []stepView
	Usage      llm.Usage
}

type stepView struct {
	N                int
	Kind             string
	T                float64
	Model            string
	Messages         []llm.Message
	Choice           int
	Completion       string
	FinishReason     string
	PromptTokens     int
	CompletionTokens int
	MeanLogprob      float64
	HasLogprobs      bool
	Adapter          int
	Tool             string
	Input            string
	Output           string
	Text             string
}

func sampleViews(trajs []trajectory.Trajectory, item string) []sampleView {
	var out []sampleView
	for _, t := range trajs {
		if t.Item != item {
			continue
		}
		sv := sampleView{Sample: t.Sample, Status: t.Status, Reward: t.Reward, Answer: t.Answer, Error: t.Error,
			Seconds: t.DurationS, Adapter: t.AdapterVersion, HarnessSHA: t.HarnessSHA, Split: t.Split, Usage: t.Usage()}
		for i, st := range t.Steps {
			v := stepView{N: i + 1, Kind: st.Kind, T: st.T, Model: st.Model, Messages: st.Messages, Choice: st.Choice,
				Completion: st.Completion, FinishReason: st.FinishReason, PromptTokens: len(st.PromptTokenIDs),
				CompletionTokens: len(st.CompletionTokenIDs), Adapter: st.AdapterVersion, Tool: st.Tool,
				Input: st.Input, Output: st.Output, Text: st.Text}
			if len(st.Logprobs) > 0 {
				sum := 0.0
				for _, lp := range st.Logprobs {
					sum += lp
				}
				v.MeanLogprob, v.HasLogprobs = sum/float64(len(st.Logprobs)), true
			}
			sv.Steps = append(sv.Steps, v)
		}
		out = append(out, sv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sample < out[j].Sample })
	return out
}

// entryView is one run in the list.
type entryView struct {
	report.Entry
	Age string
}

type listView struct {
	RunsDir string
	Runs    []entryView
	Missing bool
}
