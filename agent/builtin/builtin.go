package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/verify"
)

// Meta returns the reference harness.
type Meta struct{}

var _ agent.Meta = Meta{}

// Initial implements agent.Meta.
func (Meta) Initial(_ context.Context, in agent.MetaInput) (harness.Source, error) {
	if len(in.Reference.Code) == 0 {
		return harness.Source{}, fmt.Errorf("task %q has no reference harness for the builtin meta-agent", in.TaskName)
	}
	return harness.Source{Name: in.Reference.Name, Code: in.Reference.Code}, nil
}

// Feedback is the knob-search agent (see the package doc).
type Feedback struct {
	// Plateau is how many harness edits in a row may fail to beat the
	// incumbent before the weights lever is tried (default 2).
	Plateau int
}

var _ agent.Feedback = Feedback{}

// answerKnob matches knob names about answer handling.
var answerKnob = regexp.MustCompile(`(?i)extract|format|parse|retry|retries|prompt|max_tokens`)

// Decide implements agent.Feedback.
func (f Feedback) Decide(_ context.Context, in agent.FeedbackInput) (agent.FeedbackOutput, error) {
	plateau := f.Plateau
	if plateau <= 0 {
		plateau = 2
	}
	evidence := evidenceText(in)
	canWeights := in.CanTrain && in.Mode != agent.ModeHarness && in.Stats.TokenSamples > 0
	if in.Mode == agent.ModeWeights {
		if !canWeights {
			return stop("the weights lever cannot run: no trainer, or the harness made no model calls with token ids", evidence), nil
		}
		out := weights(in, in.Recommended, "weights mode: the harness stays fixed after gen 1", evidence)
		if in.LeverChoice == agent.LeverBandit {
			return choose(in, canWeights, nil, out, evidence), nil
		}
		return out, nil
	}
	moves := f.moves(in)
	if perfect(in, bestGen(in)) {
		return stop("the incumbent's val score is already perfect", evidence), nil
	}
	out := f.rules(in, canWeights, plateau, moves, evidence)
	if in.LeverChoice == agent.LeverBandit {
		return choose(in, canWeights, moves, out, evidence), nil
	}
	return out, nil
}

// rules is the plateau rule table (the package doc): the choice with
// LeverRules, and the bandit's prior with LeverBandit.
func (f Feedback) rules(in agent.FeedbackInput, canWeights bool, plateau int, moves []move, evidence string) agent.FeedbackOutput {
	last := in.History[len(in.History)-1]
	acc := acceptedGens(in)
	switch {
	case canWeights && last.Action == agent.ActionWeights && acc[last.Gen]:
		return weights(in, in.Recommended, fmt.Sprintf("the last weight update made gen %d the incumbent; another update starting from its adapter", last.Gen), evidence)
	case canWeights && last.Action == agent.ActionWeights && in.Branch != nil && in.Branch.Gen == last.Gen:
		return weights(in, in.Recommended, fmt.Sprintf("the last weight update (gen %d) gained %+.4f over the incumbent, not yet proven (p %.3g); another update continues it", last.Gen, in.Branch.Gain, in.Branch.PValue), evidence)
	case canWeights && harnessPlateau(in, plateau):
		return weights(in, in.Recommended, fmt.Sprintf("the last %d harness edits did not beat the incumbent (plateau)", plateau), evidence)
	case canWeights && !tried(in, agent.ActionWeights) && improved(in, agent.ActionHarness) && harnessPlateau(in, 1):
		return weights(in, in.Recommended, "the harness search has paid off once and its last edit did not: time to try the weights lever once", evidence)
	case canWeights && len(moves) == 0:
		return weights(in, in.Recommended, "every single-knob change of the incumbent has been tried", evidence)
	case len(moves) > 0:
		return harnessMoves(in, moves, evidence)
	default:
		return stop("no untried knob setting is left and the weights lever is unavailable", evidence)
	}
}

// move is one knob change of the incumbent.
type move struct {
	knob     string
	from, to any
	settings map[string]any // the full effective settings after the move
}

// moves lists untried single-knob changes of the incumbent, in search order.
func (f Feedback) moves(in agent.FeedbackInput) []move {
	decl := in.Decl
	if len(decl.Knobs) == 0 {
		return nil
	}
	order := append([]string(nil), decl.Order...)
	if len(order) == 0 {
		for k := range decl.Knobs {
			order = append(order, k)
		}
		sort.Strings(order)
	}
	if in.Stats.FailedFrac >= 0.2 {
		sort.SliceStable(order, func(i, j int) bool {
			return answerKnob.MatchString(order[i]) && !answerKnob.MatchString(order[j])
		})
	}
	base := effective(decl, in.Incumbent.Knobs)
	tried := map[string]bool{}
	for _, h := range in.History {
		tried[key(effective(decl, h.Knobs))] = true
	}
	for _, c := range in.Ranked { // lost a ranking on a slice of val
		tried[key(effective(decl, c.Knobs))] = true
	}
	var out []move
	for _, k := range order {
		for _, v := range decl.Knobs[k] {
			if equal(v, base[k]) {
				continue
			}
			s := clone(base)
			s[k] = v
			if tried[key(s)] {
				continue
			}
			out = append(out, move{knob: k, from: base[k], to: v, settings: s})
		}
	}
	return out
}

// effective overlays explicit settings on the knobs' first candidates.
func effective(decl harness.Decl, set map[string]any) map[string]any {
	out := map[string]any{}
	for k, vals := range decl.Knobs {
		if len(vals) > 0 {
			out[k] = vals[0]
		}
	}
	for k, v := range set {
		if _, declared := decl.Knobs[k]; declared {
			out[k] = v
		}
	}
	return out
}

func key(m map[string]any) string {
	b, _ := json.Marshal(m) // map keys marshal sorted
	return string(b)
}

func equal(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// perfect reports a val accuracy (or mean reward) of 1: nothing can beat it.
func perfect(in agent.FeedbackInput, best int) bool {
	if !in.Higher || in.Results == nil {
		return false
	}
	switch in.Results.Metric {
	case "accuracy", "mean_reward":
	default:
		return false
	}
	for _, h := range in.History {
		if h.Gen == best {
			return h.Score >= 1
		}
	}
	return false
}

// bestGen is the incumbent: the loop's when it says (IncumbentGen), else
// the best val score, ties keeping the older generation.
func bestGen(in agent.FeedbackInput) int {
	if in.IncumbentGen > 0 {
		return in.IncumbentGen
	}
	best, score := 0, 0.0
	for _, h := range in.History {
		if best == 0 || verify.Better(h.Score, score, in.Higher) {
			best, score = h.Gen, h.Score
		}
	}
	return best
}

// tried reports whether a past generation took action.
func tried(in agent.FeedbackInput, action string) bool {
	for _, h := range in.History {
		if h.Action == action {
			return true
		}
	}
	return false
}

// acceptedGens says which generations became the incumbent when they were
// verified: as the loop recorded it (IncumbentGen set), else by the rule
// of any strict improvement.
func acceptedGens(in agent.FeedbackInput) map[int]bool {
	acc := map[int]bool{}
	best, have := 0.0, false
	for _, h := range in.History {
		if in.IncumbentGen > 0 {
			acc[h.Gen] = h.Accepted
			continue
		}
		if !have || verify.Better(h.Score, best, in.Higher) {
			best, have = h.Score, true
			acc[h.Gen] = true
		}
	}
	return acc
}

// improved reports whether some generation made by action became the
// incumbent.
func improved(in agent.FeedbackInput, action string) bool {
	acc := acceptedGens(in)
	for _, h := range in.History {
		if h.Action == action && acc[h.Gen] {
			return true
		}
	}
	return false
}

// harnessPlateau reports whether the last n generations were harness edits
// and none of them became the incumbent.
func harnessPlateau(in agent.FeedbackInput, n int) bool {
	if len(in.History) < n+1 {
		return false
	}
	acc := acceptedGens(in)
	for _, h := range in.History[len(in.History)-n:] {
		if h.Action != agent.ActionHarness || acc[h.Gen] {
			return false
		}
	}
	return true
}

// harnessMoves proposes the first move, and as alternatives the next
// ones, up to in.Candidates in all (the loop ranks them).
func harnessMoves(in agent.FeedbackInput, moves []move, evidence string) agent.FeedbackOutput {
	out := harnessMove(in, moves[0], evidence)
	for _, m := range moves[1:min(len(moves), max(1, in.Candidates))] {
		out.Alternatives = append(out.Alternatives, harnessMove(in, m, evidence))
	}
	return out
}

func harnessMove(in agent.FeedbackInput, m move, evidence string) agent.FeedbackOutput {
	src := harness.Source{Name: in.Incumbent.Name, Code: in.Incumbent.Code, Knobs: m.settings}
	d := agent.Decision{
		Action:     agent.ActionHarness,
		Rationale:  fmt.Sprintf("knob search: try %s=%s on the incumbent (was %s)", m.knob, jsonText(m.to), jsonText(m.from)),
		Hypothesis: fmt.Sprintf("Setting %s to %s improves the val %s of the incumbent harness.", m.knob, jsonText(m.to), metricName(in)),
		Evidence:   evidence,
		Change:     fmt.Sprintf("knobs.json: %s: %s → %s; the harness code is unchanged.", m.knob, jsonText(m.from), jsonText(m.to)),
		Expected:   fmt.Sprintf("val %s above the incumbent's %s.", metricName(in), scoreText(in, bestGen(in))),
		Risk:       "A single-knob change can interact with other knobs; if it does not help, the incumbent is kept and the next candidate is tried.",
	}
	return agent.FeedbackOutput{Decision: d, Harness: &src}
}

func weights(in agent.FeedbackInput, alg rl.Algorithm, why, evidence string) agent.FeedbackOutput {
	if in.ForcedAlgorithm != "" {
		alg = in.ForcedAlgorithm
	}
	start := "the incumbent's adapter"
	if in.Branch != nil {
		start = fmt.Sprintf("gen %d's adapter (an unproven branch of the incumbent: %+.4f on val, p %.3g)", in.Branch.Gen, in.Branch.Gain, in.Branch.PValue)
	}
	from := "from the reward shape"
	if alg != in.Recommended && in.ForcedAlgorithm == "" {
		from = fmt.Sprintf("by measured return (the reward shape recommends %s)", in.Recommended)
	}
	return agent.FeedbackOutput{Decision: agent.Decision{
		Action:     agent.ActionWeights,
		Algorithm:  alg,
		Rationale:  why + fmt.Sprintf("; algorithm %s %s", alg, from),
		Hypothesis: "Training the adapter on the incumbent's own rollouts raises its success rate beyond what the harness settings reach.",
		Evidence: evidence + fmt.Sprintf(" Reward shape: success %.2f, mean %.3f, within-item variance %.3f, failed %.2f, binary %v.",
			in.Stats.SuccessRate, in.Stats.Mean, in.Stats.WithinItemVar, in.Stats.FailedFrac, in.Stats.Binary),
		Change:   fmt.Sprintf("A new LoRA adapter version trained with %s on fresh rollouts over train-split items (never val), starting from %s; the harness is unchanged.", alg, start),
		Expected: fmt.Sprintf("val %s above the incumbent's %s.", metricName(in), scoreText(in, bestGen(in))),
		Risk:     "Few rollouts can overfit the adapter or drift it from the base; the incumbent is kept if val drops.",
	}}
}

func stop(why, evidence string) agent.FeedbackOutput {
	return agent.FeedbackOutput{Decision: agent.Decision{Action: agent.ActionStop, Rationale: why, Evidence: evidence}}
}

// evidenceText summarises the gen's gold-free results.
func evidenceText(in agent.FeedbackInput) string {
	var b strings.Builder
	if in.Results != nil {
		fmt.Fprintf(&b, "Gen %d val %s %.4f over %d items", in.Gen, in.Results.Metric, in.Results.Score, in.Results.N)
		var parts []string
		for _, st := range []string{verify.StatusCorrect, verify.StatusPartial, verify.StatusWrong, verify.StatusInvalid, verify.StatusMissing, verify.StatusError} {
			if n := in.Results.Counts[st]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, st))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
		}
		b.WriteString(".")
		var fails []string
		for _, it := range in.Results.Items {
			if it.Status == verify.StatusInvalid || it.Status == verify.StatusError {
				fails = append(fails, fmt.Sprintf("%s: %s", it.ID, verify.Truncate(it.Detail, 80)))
				if len(fails) == 3 {
					break
				}
			}
		}
		if len(fails) > 0 {
			fmt.Fprintf(&b, " Sample failures: %s.", strings.Join(fails, "; "))
		}
	}
	if best := bestGen(in); best > 0 {
		fmt.Fprintf(&b, " Incumbent: gen %d at %s.", best, scoreText(in, best))
	}
	return b.String()
}

func metricName(in agent.FeedbackInput) string {
	if in.Results != nil && in.Results.Metric != "" {
		return in.Results.Metric
	}
	return "score"
}

func scoreText(in agent.FeedbackInput, gen int) string {
	for _, h := range in.History {
		if h.Gen == gen {
			return fmt.Sprintf("%.4f", h.Score)
		}
	}
	return "—"
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Given is a Meta-Agent that starts the run from a harness the user
// supplies (sia run --harness) instead of writing one.
type Given struct {
	Source harness.Source
	// From names where the source came from, for error messages.
	From string
}

var _ agent.Meta = Given{}

// Initial implements agent.Meta: it returns the given harness when it is
// written for the task's runtime.
func (g Given) Initial(_ context.Context, in agent.MetaInput) (harness.Source, error) {
	if err := g.Fits(in.TaskName, in.Runtime); err != nil {
		return harness.Source{}, err
	}
	return g.Source, nil
}

// Fits reports whether the given harness is written for runtime
// ("starlark" or "python"), so a mismatch fails before a run starts.
func (g Given) Fits(taskName, runtime string) error {
	if want := harness.FileFor(runtime); g.Source.Name != want {
		return fmt.Errorf("--harness %s is a %s, but task %q runs %s harnesses (%s)", g.From, g.Source.Name, taskName, runtime, want)
	}
	return nil
}
