package llmagent

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// Output caps of the trajectory view. Nothing is dropped silently: a page
// that would pass maxPageBytes ends early and says where the next one
// starts, for rollouts (offset) and for one rollout's steps (step_offset).
const (
	maxPageRollouts  = 20    // read_trajectories' n
	maxPageBytes     = 18000 // one page of JSON, under the loop's tool-output cap
	maxFieldChars    = 300   // one item field
	maxMessageChars  = 1200  // one message or completion
	maxAnswerChars   = 300   // an answer, an error
	defaultPageItems = 5
)

// rolloutSource is a set of rollouts an agent may page through: this
// generation's val rollouts, or a measurement's train rollouts.
type rolloutSource struct {
	Name  string // "val", "m1", …
	About string
	Trajs []trajectory.Trajectory
	// Fields holds each item's fields (never its label), by item id.
	Fields map[string]map[string]any
}

// Trajectory filters beyond the verifier statuses.
const (
	filterAll    = "all"
	filterFailed = "failed" // every status but correct
)

var trajectoryFilters = []string{filterAll, filterFailed, verify.StatusCorrect, verify.StatusPartial,
	verify.StatusWrong, verify.StatusInvalid, verify.StatusMissing, verify.StatusError}

func statusFilter(f string) (func(string) bool, error) {
	switch f {
	case "", filterAll:
		return func(string) bool { return true }, nil
	case filterFailed:
		return func(s string) bool { return s != verify.StatusCorrect }, nil
	}
	for _, s := range trajectoryFilters {
		if s == f {
			return func(st string) bool { return st == f }, nil
		}
	}
	return nil, fmt.Errorf("unknown filter %q (want one of %s)", f, strings.Join(trajectoryFilters, ", "))
}

// trajArgs are read_trajectories' arguments.
type trajArgs struct {
	Source     string `json:"source"`
	Filter     string `json:"filter"`
	Field      string `json:"field"`
	Value      string `json:"value"`
	Item       string `json:"item"`
	Offset     int    `json:"offset"`
	N          int    `json:"n"`
	StepOffset int    `json:"step_offset"`
}

// readTrajectoriesTool pages through the rollouts of the bench's sources.
func readTrajectoriesTool(b *bench) Tool {
	return Tool{
		Spec: llm.Tool{
			Name: ToolReadTrajectories,
			Description: "Page through rollouts, in item order. source is \"val\" (this generation's validation rollouts, when there are any) or a " +
				"measurement id from run_harness/measure_harness (\"m1\", …: train items). Each rollout shows the item's fields (never its label), " +
				"the answer, status, reward, error, and every step: model calls with all their messages and the completion, tool calls, and the " +
				"harness's log lines. Filters: filter (a status, or failed = every status but correct), field+value (items whose field equals value; " +
				"field \"answer\" matches the answer), item (one item). A page that would be too long ends early and says the next offset or step_offset.",
			Parameters: schema(map[string]prop{
				"source":      {typ: "string", desc: "\"val\" or a measurement id such as \"m1\" (default: val, else the latest measurement)"},
				"filter":      {typ: "string", desc: "status to keep", enum: trajectoryFilters},
				"field":       {typ: "string", desc: "item field to match (or \"answer\")"},
				"value":       {typ: "string", desc: "the value field must equal"},
				"item":        {typ: "string", desc: "only this item id"},
				"offset":      {typ: "integer", desc: "index of the first matching rollout to show (default 0)", min: intPtr(0)},
				"n":           {typ: "integer", desc: fmt.Sprintf("rollouts per page (default %d, at most %d)", defaultPageItems, maxPageRollouts), min: intPtr(1)},
				"step_offset": {typ: "integer", desc: "first step to show of the first rollout on the page (to continue a long one)", min: intPtr(0)},
			}),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a trajArgs
			if err := decodeArgs(raw, &a); err != nil {
				return "", err
			}
			return b.readTrajectories(a)
		},
	}
}

// trajPage is read_trajectories' answer.
type trajPage struct {
	Source     string        `json:"source"`
	About      string        `json:"about"`
	Matching   int           `json:"matching"`
	Offset     int           `json:"offset"`
	Rollouts   []rolloutView `json:"rollouts"`
	NextOffset *int          `json:"next_offset,omitempty"`
	Note       string        `json:"note,omitempty"`
}

func (b *bench) readTrajectories(a trajArgs) (string, error) {
	src, err := b.source(a.Source)
	if err != nil {
		return "", err
	}
	keep, err := statusFilter(a.Filter)
	if err != nil {
		return "", err
	}
	if (a.Field == "") != (a.Value == "") {
		return "", fmt.Errorf("field and value go together")
	}
	if a.Offset < 0 || a.StepOffset < 0 || a.N < 0 {
		return "", fmt.Errorf("offset, step_offset and n must not be negative")
	}
	n := a.N
	if n == 0 {
		n = defaultPageItems
	}
	n = min(n, maxPageRollouts)
	var idx []int
	for i := range src.Trajs {
		t := &src.Trajs[i]
		if !keep(t.Status) || (a.Item != "" && t.Item != a.Item) {
			continue
		}
		if a.Field != "" {
			got := t.Answer
			if a.Field != "answer" {
				v, ok := src.Fields[t.Item][a.Field]
				if !ok {
					continue
				}
				got = fieldString(v)
			}
			if strings.TrimSpace(got) != strings.TrimSpace(a.Value) {
				continue
			}
		}
		idx = append(idx, i)
	}
	page := trajPage{Source: src.Name, About: src.About, Matching: len(idx), Offset: a.Offset, Rollouts: []rolloutView{}}
	if a.Item != "" && len(idx) == 0 {
		page.Note = fmt.Sprintf("no rollout of item %q matches in %s", a.Item, src.Name)
	}
	used := 600 // the page's own fields
	for pos := a.Offset; pos < len(idx) && len(page.Rollouts) < n; pos++ {
		stepOff := 0
		if pos == a.Offset {
			stepOff = a.StepOffset
		}
		budget := maxPageBytes - used
		v := viewRollout(&src.Trajs[idx[pos]], src.Fields[src.Trajs[idx[pos]].Item], stepOff, budget)
		size := len(mustJSON(v))
		if len(page.Rollouts) > 0 && used+size > maxPageBytes {
			next := pos
			page.NextOffset = &next
			break
		}
		used += size
		page.Rollouts = append(page.Rollouts, v)
		if v.NextStep != nil { // this rollout continues on the next page
			next := pos
			page.NextOffset = &next
			page.Note = fmt.Sprintf("rollout %d continues: call again with offset %d and step_offset %d", pos, pos, *v.NextStep)
			break
		}
		if pos+1 < len(idx) && len(page.Rollouts) == n {
			next := pos + 1
			page.NextOffset = &next
		}
	}
	return mustJSON(page), nil
}

// rolloutView is a trajectory as the agent reads it: no token ids, each
// message and completion clipped to maxMessageChars (with the count of the
// rest), and the steps from stepOff on until budget bytes are used.
type rolloutView struct {
	Item       string         `json:"item"`
	Fields     map[string]any `json:"fields,omitempty"`
	Sample     int            `json:"sample"`
	Status     string         `json:"status"`
	Reward     float64        `json:"reward"`
	Answer     string         `json:"answer"`
	Error      string         `json:"error,omitempty"`
	DurationS  float64        `json:"duration_s"`
	StepsTotal int            `json:"steps_total"`
	FirstStep  int            `json:"first_step,omitempty"`
	Steps      []stepView     `json:"steps"`
	NextStep   *int           `json:"next_step_offset,omitempty"`
}

type stepView struct {
	Step int    `json:"step"`
	Kind string `json:"kind"`
	// Model calls: the messages sent (those repeated from the previous
	// model call are named, not shown again) and the completion.
	SameMessagesAs *int          `json:"same_messages_as_step,omitempty"`
	SamePrefix     int           `json:"same_prefix_messages,omitempty"`
	Messages       []messageView `json:"messages,omitempty"`
	Choice         int           `json:"choice,omitempty"`
	Completion     string        `json:"completion,omitempty"`
	Logprob        *float64      `json:"logprob,omitempty"`
	Tool           string        `json:"tool,omitempty"`
	Input          string        `json:"input,omitempty"`
	Output         string        `json:"output,omitempty"`
	Text           string        `json:"text,omitempty"`
}

type messageView struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func viewRollout(t *trajectory.Trajectory, fields map[string]any, stepOff, budget int) rolloutView {
	v := rolloutView{Item: t.Item, Fields: clipFields(fields), Sample: t.Sample, Status: t.Status, Reward: t.Reward,
		Answer: clip(t.Answer, maxAnswerChars), Error: clip(t.Error, maxAnswerChars), DurationS: round3(t.DurationS),
		StepsTotal: len(t.Steps), FirstStep: stepOff, Steps: []stepView{}}
	used := len(mustJSON(v))
	prevModel := -1
	for i := stepOff; i < len(t.Steps); i++ {
		s := t.Steps[i]
		sv := stepView{Step: i, Kind: s.Kind}
		switch s.Kind {
		case trajectory.KindModel:
			sv.Choice, sv.Completion = s.Choice, clip(s.Completion, maxMessageChars)
			if len(s.Logprobs) > 0 {
				sum := 0.0
				for _, lp := range s.Logprobs {
					sum += lp
				}
				sum = round3(sum)
				sv.Logprob = &sum
			}
			same := 0
			if prevModel >= 0 {
				same = commonPrefix(t.Steps[prevModel].Messages, s.Messages)
			}
			switch {
			case same > 0 && same == len(s.Messages):
				j := prevModel
				sv.SameMessagesAs = &j
			default:
				if same > 0 {
					j := prevModel
					sv.SameMessagesAs, sv.SamePrefix = &j, same
				}
				for _, m := range s.Messages[same:] {
					sv.Messages = append(sv.Messages, messageView{Role: m.Role, Content: clip(m.Content, maxMessageChars)})
				}
			}
			prevModel = i
		case trajectory.KindTool:
			sv.Tool, sv.Input, sv.Output = s.Tool, clip(s.Input, maxMessageChars), clip(s.Output, maxMessageChars)
		default:
			sv.Text = clip(s.Text, maxMessageChars)
		}
		size := len(mustJSON(sv))
		if len(v.Steps) > 0 && used+size > budget {
			next := i
			v.NextStep = &next
			break
		}
		used += size
		v.Steps = append(v.Steps, sv)
	}
	return v
}

// commonPrefix counts the leading messages a and b share.
func commonPrefix(a, b []llm.Message) int {
	n := 0
	for n < len(a) && n < len(b) && a[n].Role == b[n].Role && a[n].Content == b[n].Content {
		n++
	}
	return n
}

// clipFields clips each field's text, keeping numbers and bools as they are.
func clipFields(fields map[string]any) map[string]any {
	if len(fields) == 0 {
		return nil
	}
	out := make(map[string]any, len(fields))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := fields[k].(type) {
		case string:
			out[k] = clip(v, maxFieldChars)
		case float64, bool, nil, int, int64:
			out[k] = v
		default:
			out[k] = clip(mustJSON(v), maxFieldChars)
		}
	}
	return out
}
