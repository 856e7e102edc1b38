package llmagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/agent/measure"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// Defaults of the measuring tools.
const (
	defaultMaxTryItems   = 20     // run_harness' n_items
	defaultMeasureBudget = 20_000 // item solves per session, all measuring tools together
	defaultFolds         = 5
	maxKnobCandidates    = 24 // search_knobs' settings tried per call
	maxShownFailures     = 8
	maxSetupLogLines     = 30
)

// bench is one session's workbench: the harness in the workspace, the
// measuring function, the item-solve budget, and the rollouts the agent
// may page through (this generation's val rollouts, then each
// measurement's train rollouts).
type bench struct {
	ws      *workspace
	name    string
	measure agent.MeasureFunc
	trainN  int
	budget  int
	used    int
	seconds float64
	tokens  int
	costUSD float64
	maxTry  int
	seed    int64
	sources []*rolloutSource
	results map[string]*measure.Result
	// declared is the incumbent's KNOBS, for search_knobs without a space.
	declared map[string][]any
	order    []string
}

func newBench(ws *workspace, name string, fn agent.MeasureFunc, trainN int, cfg Config, seed int64) *bench {
	return &bench{ws: ws, name: name, measure: fn, trainN: trainN, budget: cfg.MeasureBudget, maxTry: cfg.MaxTryItems,
		seed: seed, results: map[string]*measure.Result{}}
}

// source returns the named rollouts; "" is val when present, else the
// latest measurement.
func (b *bench) source(name string) (*rolloutSource, error) {
	name = strings.TrimSpace(name)
	if name == "" && len(b.sources) > 0 {
		if b.sources[0].Name == "val" {
			return b.sources[0], nil
		}
		return b.sources[len(b.sources)-1], nil
	}
	var names []string
	for _, s := range b.sources {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		return nil, errors.New("no rollouts yet: run_harness or measure_harness make some (sources m1, m2, …)")
	}
	return nil, fmt.Errorf("unknown source %q (have: %s)", name, strings.Join(names, ", "))
}

// cost is a measurement's price, as tools report it.
type cost struct {
	Seconds    float64 `json:"seconds"`
	Tokens     int     `json:"tokens"`
	CostUSD    float64 `json:"cost_usd,omitempty"`
	ItemSolves int     `json:"item_solves"`
}

// budgetView is what is left of the session's measuring budget.
type budgetView struct {
	ItemSolvesLeft int     `json:"item_solves_left"`
	SpentSeconds   float64 `json:"spent_seconds"`
	SpentTokens    int     `json:"spent_tokens"`
	SpentUSD       float64 `json:"spent_usd,omitempty"`
}

func (b *bench) left() budgetView {
	return budgetView{ItemSolvesLeft: b.budget - b.used, SpentSeconds: round3(b.seconds), SpentTokens: b.tokens, SpentUSD: b.costUSD}
}

// run measures the workspace's harness (or src when given) under req,
// charging the budget, and records it as a new source.
func (b *bench) run(ctx context.Context, src *harness.Source, req measure.Request) (*measure.Result, string, error) {
	if b.measure == nil {
		return nil, "", errors.New("measuring is not available in this run")
	}
	if src == nil {
		s, err := readSource(b.ws, b.name)
		if err != nil {
			return nil, "", err
		}
		src = &s
	}
	items := req.Items
	if items <= 0 || items > b.trainN {
		items = b.trainN
	}
	need := items * max(req.Samples, 1)
	if left := b.budget - b.used; need > left {
		return nil, "", fmt.Errorf("budget: this needs %d item solves and %d are left this session; ask for fewer items (items=%d fits)",
			need, left, left/max(req.Samples, 1))
	}
	res, err := b.measure(ctx, *src, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, "", fmt.Errorf("measure: %v", err)
	}
	b.used += need
	b.seconds += res.Seconds
	b.tokens += res.Tokens
	b.costUSD += res.CostUSD
	id := fmt.Sprintf("m%d", len(b.results)+1)
	b.results[id] = res
	b.order = append(b.order, id)
	fields := map[string]map[string]any{}
	for _, it := range res.Items {
		fields[it.ID] = it.Fields
	}
	about := fmt.Sprintf("train items of measurement %s (harness %s, %d folds)", id, res.HarnessSHA, len(res.Folds))
	b.sources = append(b.sources, &rolloutSource{Name: id, About: about, Trajs: res.Trajectories, Fields: fields})
	return res, id, nil
}

func (b *bench) costOf(res *measure.Result) cost {
	return cost{Seconds: round3(res.Seconds), Tokens: res.Tokens, CostUSD: res.CostUSD, ItemSolves: res.N * max(res.Request.Samples, 1)}
}

// runHarnessTool is the smoke test: the first n train items, the harness
// set up on the rest of train, every item shown.
func runHarnessTool(b *bench) Tool {
	return Tool{
		Spec: llm.Tool{
			Name: ToolRunHarness,
			Description: fmt.Sprintf("Smoke-test the harness as it is now in the generation folder (%s, with %s if present): set it up on the train "+
				"split minus its first n_items items (at most %d), solve those items, and return each one's fields, status, reward, answer, error "+
				"and log lines, the setup's log lines, or the load error. Train items only: no validation item is run. For a score with an error "+
				"bar use measure_harness.", b.name, KnobsFile, b.maxTry),
			Parameters: schema(map[string]prop{"n_items": {typ: "integer", desc: "how many of the first train items to solve", min: intPtr(1)}}, "n_items"),
		},
		Run: func(ctx context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				NItems int `json:"n_items"`
			}
			if err := decodeArgs(raw, &a, "n_items"); err != nil {
				return "", err
			}
			if a.NItems < 1 {
				return "", fmt.Errorf("n_items must be ≥ 1 (got %d)", a.NItems)
			}
			n := min(a.NItems, b.maxTry)
			if b.trainN > 0 && n >= b.trainN {
				n = b.trainN - 1
			}
			res, id, err := b.run(ctx, nil, measure.Request{Items: n, First: true, Folds: 1, Seed: b.seed, Samples: 1})
			if err != nil {
				return "", err
			}
			return mustJSON(tryReport(res, id, a.NItems, n, b)), nil
		},
	}
}

// tryItem is one item of run_harness' answer.
type tryItem struct {
	ID         string         `json:"id"`
	Fields     map[string]any `json:"fields,omitempty"`
	Status     string         `json:"status"`
	Reward     float64        `json:"reward"`
	Answer     string         `json:"answer"`
	Error      string         `json:"error,omitempty"`
	Logs       []string       `json:"logs,omitempty"`
	ModelCalls int            `json:"model_calls"`
}

type tryAnswer struct {
	ID         string         `json:"id"`
	HarnessSHA string         `json:"harness_sha"`
	N          int            `json:"n"`
	Note       string         `json:"note,omitempty"`
	Score      float64        `json:"score"`
	Counts     map[string]int `json:"counts"`
	SetupError string         `json:"setup_error,omitempty"`
	SetupLog   []string       `json:"setup_log,omitempty"`
	Items      []tryItem      `json:"items"`
	Cost       cost           `json:"cost"`
	Budget     budgetView     `json:"budget"`
}

func tryReport(res *measure.Result, id string, asked, n int, b *bench) tryAnswer {
	r := tryAnswer{ID: id, HarnessSHA: res.HarnessSHA, N: res.N, Score: round3(res.Score), Counts: res.Counts,
		Cost: b.costOf(res), Budget: b.left(), Items: []tryItem{}}
	if asked > n {
		r.Note = fmt.Sprintf("n_items capped at %d", n)
	}
	if len(res.Folds) > 0 {
		r.SetupError, r.SetupLog = clip(res.Folds[0].SetupError, 2000), clipLines(res.Folds[0].SetupLog, maxSetupLogLines)
	}
	steps := map[string]*trajectory.Trajectory{}
	for i := range res.Trajectories {
		if t := &res.Trajectories[i]; t.Sample == 0 {
			steps[t.Item] = t
		}
	}
	for _, it := range res.Items {
		ti := tryItem{ID: it.ID, Fields: clipFields(it.Fields), Status: it.Status, Reward: it.Reward,
			Answer: clip(it.Answer, maxAnswerChars), Error: clip(it.Error, 1000)}
		if t := steps[it.ID]; t != nil {
			for _, s := range t.Steps {
				switch s.Kind {
				case trajectory.KindLog:
					ti.Logs = append(ti.Logs, clip(s.Text, maxAnswerChars))
				case trajectory.KindModel:
					ti.ModelCalls++
				}
			}
			ti.Logs = clipLines(ti.Logs, 10)
		}
		r.Items = append(r.Items, ti)
	}
	return r
}

// clipLines keeps the first n lines and says how many were left.
func clipLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	out := append([]string(nil), lines[:n]...)
	return append(out, fmt.Sprintf("… %d more lines", len(lines)-n))
}

// measureArgs are measure_harness' arguments.
type measureArgs struct {
	Folds   int   `json:"folds"`
	Items   int   `json:"items"`
	Seed    int64 `json:"seed"`
	Samples int   `json:"samples"`
}

func (a measureArgs) request(defaultSeed int64) (measure.Request, error) {
	if a.Folds < 0 || a.Items < 0 || a.Samples < 0 {
		return measure.Request{}, errors.New("folds, items and samples must not be negative")
	}
	req := measure.Request{Folds: a.Folds, Items: a.Items, Seed: a.Seed, Samples: max(a.Samples, 1)}
	if req.Folds == 0 {
		req.Folds = defaultFolds
	}
	if req.Seed == 0 {
		req.Seed = defaultSeed
	}
	return req, nil
}

var measureProps = map[string]prop{
	"folds":   {typ: "integer", desc: fmt.Sprintf("k for k-fold cross-validation (default %d); 1 = one holdout sample, set up on the rest of train", defaultFolds), min: intPtr(1)},
	"items":   {typ: "integer", desc: "how many train items to solve, drawn by seed (default: all of train, within the budget)", min: intPtr(1)},
	"seed":    {typ: "integer", desc: "picks the items, folds and sampling; the same seed pairs two measurements item by item"},
	"samples": {typ: "integer", desc: "solves per item (default 1); rewards are averaged", min: intPtr(1)},
}

// measureTool is measure_harness.
func measureTool(b *bench) Tool {
	return Tool{
		Spec: llm.Tool{
			Name: ToolMeasureHarness,
			Description: fmt.Sprintf("Measure the harness as it is now in the generation folder on the TRAIN split by k-fold cross-validation "+
				"(or one seeded holdout sample): for each fold the harness is set up on the rest of train and never sees the fold's labels "+
				"(not in ctx.train, not in the public files). Returns the score (mean item reward) ± its standard error and a 95%% interval, "+
				"per-fold scores, counts by status, failure clusters (item fields the failures share), a few failed items, the setup's log "+
				"lines and load errors, the cost (seconds, tokens) and the session's budget left (%d item solves in all). Page through every "+
				"item with read_trajectories(source=<id>).", b.budget),
			Parameters: schema(measureProps),
		},
		Run: func(ctx context.Context, raw json.RawMessage) (string, error) {
			var a measureArgs
			if err := decodeArgs(raw, &a); err != nil {
				return "", err
			}
			req, err := a.request(b.seed)
			if err != nil {
				return "", err
			}
			if req.Items == 0 {
				req.Items = min(b.trainN, (b.budget-b.used)/req.Samples)
				if req.Items <= req.Folds && b.trainN > 0 {
					return "", fmt.Errorf("budget: %d item solves are left this session, too few for %d folds", b.budget-b.used, req.Folds)
				}
			}
			res, id, err := b.run(ctx, nil, req)
			if err != nil {
				return "", err
			}
			return mustJSON(measureReport(res, id, b)), nil
		},
	}
}

// foldView is one fold in measure_harness' answer.
type foldView struct {
	Fold       int      `json:"fold"`
	Train      int      `json:"setup_on"`
	Items      int      `json:"items"`
	Score      float64  `json:"score"`
	SetupS     float64  `json:"setup_s"`
	SetupError string   `json:"setup_error,omitempty"`
	SetupLog   []string `json:"setup_log,omitempty"`
}

type failedItem struct {
	ID     string         `json:"id"`
	Fold   int            `json:"fold"`
	Status string         `json:"status"`
	Answer string         `json:"answer"`
	Error  string         `json:"error,omitempty"`
	Fields map[string]any `json:"fields,omitempty"`
}

type measureAnswer struct {
	ID         string         `json:"id"`
	HarnessSHA string         `json:"harness_sha"`
	Split      string         `json:"split"`
	Folds      int            `json:"folds"`
	Seed       int64          `json:"seed"`
	N          int            `json:"n"`
	Score      float64        `json:"score"`
	SE         float64        `json:"se"`
	CI95       [2]float64     `json:"ci95"`
	Counts     map[string]int `json:"counts"`
	PerFold    []foldView     `json:"per_fold"`
	Overall    float64        `json:"failure_rate"`
	Clusters   []cluster      `json:"failure_clusters"`
	Failures   []failedItem   `json:"failed_items_sample"`
	MoreFailed int            `json:"more_failed_items,omitempty"`
	Cost       cost           `json:"cost"`
	Budget     budgetView     `json:"budget"`
}

func measureReport(res *measure.Result, id string, b *bench) measureAnswer {
	r := measureAnswer{ID: id, HarnessSHA: res.HarnessSHA, Split: "train", Folds: len(res.Folds), Seed: res.Request.Seed, N: res.N,
		Score: round3(res.Score), SE: round3(res.SE), Counts: res.Counts, Cost: b.costOf(res), Budget: b.left(),
		Clusters: []cluster{}, Failures: []failedItem{}}
	r.CI95 = [2]float64{round3(res.Score - 1.96*res.SE), round3(res.Score + 1.96*res.SE)}
	logsShown := 0
	for _, f := range res.Folds {
		fv := foldView{Fold: f.Fold, Train: f.Train, Items: f.Items, Score: round3(f.Score), SetupS: round3(f.SetupS),
			SetupError: clip(f.SetupError, 2000)}
		if logsShown < 2 { // folds log alike; two show the pattern
			fv.SetupLog = clipLines(f.SetupLog, maxSetupLogLines)
			logsShown++
		}
		r.PerFold = append(r.PerFold, fv)
	}
	var rows []clusterRow
	for _, it := range res.Items {
		failed := it.Status != verify.StatusCorrect
		rows = append(rows, clusterRow{Fields: it.Fields, Answer: it.Answer, Failed: failed})
		if !failed {
			continue
		}
		if len(r.Failures) < maxShownFailures {
			r.Failures = append(r.Failures, failedItem{ID: it.ID, Fold: it.Fold, Status: it.Status, Answer: clip(it.Answer, 120),
				Error: clip(it.Error, 300), Fields: clipFieldsTo(it.Fields, 80)})
		} else {
			r.MoreFailed++
		}
	}
	r.Overall, r.Clusters = failureClusters(rows)
	r.Overall = round3(r.Overall)
	if r.Clusters == nil {
		r.Clusters = []cluster{}
	}
	return r
}

// clipFieldsTo clips each text field to n characters.
func clipFieldsTo(fields map[string]any, n int) map[string]any {
	out := clipFields(fields)
	for k, v := range out {
		if s, ok := v.(string); ok {
			out[k] = clip(s, n)
		}
	}
	return out
}

// workbenchTools are the tools both roles get besides the file tools:
// read_docs when the reference is there, and the measuring tools and the
// trajectory view when the run can measure (or, for the Feedback-Agent,
// has val rollouts to show).
func workbenchTools(b *bench, d *harnessDocs) []Tool {
	var out []Tool
	if d != nil {
		out = append(out, readDocsTool(d))
	}
	if b.measure != nil {
		out = append(out, runHarnessTool(b), measureTool(b), searchKnobsTool(b))
	}
	if b.measure != nil || len(b.sources) > 0 {
		out = append(out, readTrajectoriesTool(b))
	}
	return out
}

// valSource is this generation's val rollouts as read_trajectories shows
// them.
func valSource(in *agent.FeedbackInput) *rolloutSource {
	fields := make(map[string]map[string]any, len(in.Items))
	for _, it := range in.Items {
		fields[it.ID] = it.Fields
	}
	return &rolloutSource{Name: "val", Trajs: in.Rollouts, Fields: fields,
		About: fmt.Sprintf("generation %d's rollouts on the validation split (the selection split; item labels are never shown)", in.Gen)}
}
