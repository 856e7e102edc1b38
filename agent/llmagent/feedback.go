package llmagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
)

// ErrNoDecision is returned when a Feedback session ends without a valid
// submit_decision.
var ErrNoDecision = errors.New("the feedback agent submitted no decision")

// Feedback is the LLM Feedback-Agent: it reads the generation's gold-free
// results, rollouts and reward statistics, and picks one lever.
type Feedback struct {
	cfg     Config
	prompts *prompts
}

var _ agent.Feedback = (*Feedback)(nil)

// NewFeedback checks cfg and loads its prompts.
func NewFeedback(cfg Config) (*Feedback, error) {
	cfg, p, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	return &Feedback{cfg: cfg, prompts: p}, nil
}

// Decide runs a session over in. It seeds in.GenDir with the incumbent
// harness (and knobs.json), which the model may edit; in.GenDir should be
// the folder of the next generation's harness or a scratch folder, since
// its harness file is overwritten. For the harness action it returns the
// edited harness; for weights and stop it puts the incumbent back in
// in.GenDir. A session that ends without a valid decision returns an error
// wrapping ErrNoDecision (and ErrTurnLimit or ErrTokenLimit when a limit
// ended it), so the caller can fall back to the builtin agent.
func (f *Feedback) Decide(ctx context.Context, in agent.FeedbackInput) (agent.FeedbackOutput, error) {
	if len(in.Incumbent.Code) == 0 {
		return agent.FeedbackOutput{}, errors.New("feedback agent: the incumbent harness is empty")
	}
	switch modeOf(in.Mode) {
	case agent.ModeAuto, agent.ModeHarness, agent.ModeWeights:
	default:
		return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: unknown mode %q (want harness, weights or auto)", in.Mode)
	}
	ws, err := openWorkspace(in.GenDir, in.Public, in.Docs)
	if err != nil {
		return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: %w", err)
	}
	defer ws.Close()
	name := harnessName(in.Incumbent, "")
	if err := seedSource(ws, name, in.Incumbent); err != nil {
		return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: seed incumbent harness: %w", err)
	}
	incumbentSHA := in.Incumbent.SHA()
	checkEdited := func(d agent.Decision) error {
		if d.Action != agent.ActionHarness {
			return nil
		}
		src, err := readSource(ws, name)
		if err != nil {
			return err
		}
		if src.SHA() == incumbentSHA {
			return fmt.Errorf("action harness, but %s and %s are unchanged from the incumbent; edit them first or choose another action", name, KnobsFile)
		}
		return nil
	}

	var (
		decision  agent.Decision
		submitted bool
	)
	b := newBench(ws, name, in.Measure, in.TrainSize, f.cfg, in.Seed)
	b.declared = in.Decl.Knobs
	b.sources = append(b.sources, valSource(&in))
	tools := append(fileTools(ws), workbenchTools(b, loadHarnessDocs(in.Docs))...)
	tools = append(tools, rewardStatsTool(&in), submitDecisionTool(&in, checkEdited, &decision, &submitted))
	msgs, err := f.messages(&in, name)
	if err != nil {
		return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: %w", err)
	}
	loop := f.cfg.loop(tools, "Only one turn is left: call submit_decision now.",
		"You ended your turn without a decision. Call submit_decision now (action, rationale, hypothesis, expected, risk).")
	err = drain(ctx, loop.Run(ctx, msgs), RoleFeedback, f.cfg.OnEvent)
	if !submitted {
		if err != nil {
			return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: %w: %w", ErrNoDecision, err)
		}
		return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: %w (the model ended its turn without calling submit_decision)", ErrNoDecision)
	}
	if err != nil { // a decision stands once submitted; only cancellation undoes it
		if ctxErr := ctx.Err(); ctxErr != nil {
			return agent.FeedbackOutput{}, ctxErr
		}
	}

	decision.Evidence = evidence(&in)
	out := agent.FeedbackOutput{Decision: decision}
	if decision.Action == agent.ActionHarness {
		src, err := readSource(ws, name)
		if err != nil {
			return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: read edited harness: %w", err)
		}
		if src.SHA() == incumbentSHA { // edited back after submitting
			return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: %w (harness action with an unchanged harness)", ErrNoDecision)
		}
		out.Decision.Change = describeChange(in.Incumbent, src)
		out.Harness = &src
		return out, nil
	}
	if err := seedSource(ws, name, in.Incumbent); err != nil {
		return agent.FeedbackOutput{}, fmt.Errorf("feedback agent: restore incumbent harness: %w", err)
	}
	switch decision.Action {
	case agent.ActionWeights:
		out.Decision.Change = fmt.Sprintf("train a new adapter with %s on fresh rollouts of the incumbent on train-split items, starting from the incumbent's adapter; harness %s unchanged", decision.Algorithm, incumbentSHA)
		if in.Recommended != "" && decision.Algorithm != in.Recommended {
			out.Decision.Change += fmt.Sprintf(" (the rule table recommended %s)", in.Recommended)
		}
	case agent.ActionStop:
		out.Decision.Change = "stop the run"
	}
	return out, nil
}

func (f *Feedback) messages(in *agent.FeedbackInput, name string) ([]llm.Message, error) {
	d := newFeedbackData(in, name, f.cfg)
	sys, err := f.prompts.render(promptFeedbackSystem, d)
	if err != nil {
		return nil, err
	}
	user, err := f.prompts.render(promptFeedbackUser, d)
	if err != nil {
		return nil, err
	}
	return []llm.Message{{Role: llm.RoleSystem, Content: sys}, {Role: llm.RoleUser, Content: user}}, nil
}

// evidence summarises, in one line, what the decision was made on.
func evidence(in *agent.FeedbackInput) string {
	var parts []string
	if r := in.Results; r != nil {
		parts = append(parts, fmt.Sprintf("generation %d: %s = %s on %d val items (%s)", in.Gen, r.Metric, formatNum(r.Score), r.N, formatCounts(r.Counts)))
	}
	parts = append(parts, "reward shape: "+statsLine(in.Stats))
	if in.Recommended != "" {
		parts = append(parts, "rule table recommends "+string(in.Recommended))
	}
	return strings.Join(parts, "; ")
}

// describeChange says what a harness edit changed: lines added and
// removed, and knob settings.
func describeChange(old, cur harness.Source) string {
	added, removed := lineDelta(string(old.Code), string(cur.Code))
	s := fmt.Sprintf("edited %s (+%d −%d lines)", cur.Name, added, removed)
	var knobs []string
	keys := map[string]bool{}
	for k := range old.Knobs {
		keys[k] = true
	}
	for k := range cur.Knobs {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		a, _ := json.Marshal(old.Knobs[k])
		b, _ := json.Marshal(cur.Knobs[k])
		if string(a) != string(b) {
			knobs = append(knobs, fmt.Sprintf("%s %s→%s", k, a, b))
		}
	}
	if len(knobs) > 0 {
		s += "; knobs: " + strings.Join(knobs, ", ")
	}
	return s
}

// lineDelta counts lines of b not in a (added) and of a not in b (removed),
// as multisets: a cheap size of the edit, not a diff.
func lineDelta(a, b string) (added, removed int) {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		if count[l] > 0 {
			count[l]--
		} else {
			added++
		}
	}
	for _, n := range count {
		removed += n
	}
	return added, removed
}
