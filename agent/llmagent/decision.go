package llmagent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/rl"
)

func modeOf(m string) string {
	if m == "" {
		return agent.ModeAuto
	}
	return m
}

// allowedActions lists the actions a Feedback-Agent may take under mode.
// Weights need a trainer; stop is always allowed.
func allowedActions(mode string, canTrain bool) []string {
	var out []string
	switch modeOf(mode) {
	case agent.ModeHarness:
		out = append(out, agent.ActionHarness)
	case agent.ModeWeights:
		if canTrain {
			out = append(out, agent.ActionWeights)
		}
	default:
		out = append(out, agent.ActionHarness)
		if canTrain {
			out = append(out, agent.ActionWeights)
		}
	}
	return append(out, agent.ActionStop)
}

// decisionArgs are submit_decision's arguments.
type decisionArgs struct {
	Action     string `json:"action"`
	Algorithm  string `json:"algorithm"`
	Rationale  string `json:"rationale"`
	Hypothesis string `json:"hypothesis"`
	Expected   string `json:"expected"`
	Risk       string `json:"risk"`
}

func algorithmNames() []string {
	out := make([]string, len(rl.Algorithms))
	for i, a := range rl.Algorithms {
		out[i] = string(a)
	}
	return out
}

// validateDecision turns submit_decision's arguments into a Decision, or
// says what is wrong in words the model can act on. note tells the model
// about an algorithm the rules replaced.
func validateDecision(a decisionArgs, in *agent.FeedbackInput) (d agent.Decision, note string, err error) {
	allowed := allowedActions(in.Mode, in.CanTrain)
	if !slices.Contains(allowed, a.Action) {
		why := ""
		if a.Action == agent.ActionWeights && !in.CanTrain {
			why = " (no trainer is available)"
		}
		return d, "", fmt.Errorf("action %q is not allowed in mode %s%s; allowed: %s", a.Action, modeOf(in.Mode), why, strings.Join(allowed, ", "))
	}
	if strings.TrimSpace(a.Rationale) == "" {
		return d, "", fmt.Errorf("rationale is empty; say why this lever, citing the evidence")
	}
	if a.Action != agent.ActionStop {
		var missing []string
		for _, f := range []struct{ name, v string }{{"hypothesis", a.Hypothesis}, {"expected", a.Expected}, {"risk", a.Risk}} {
			if strings.TrimSpace(f.v) == "" {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			return d, "", fmt.Errorf("%s must not be empty for action %s", strings.Join(missing, ", "), a.Action)
		}
	}
	d = agent.Decision{Action: a.Action, Rationale: strings.TrimSpace(a.Rationale), RewardStats: in.Stats,
		Recommended: in.Recommended, Hypothesis: strings.TrimSpace(a.Hypothesis),
		Expected: strings.TrimSpace(a.Expected), Risk: strings.TrimSpace(a.Risk)}
	if a.Action != agent.ActionWeights {
		if a.Algorithm != "" {
			note = fmt.Sprintf("algorithm %q ignored: it applies only to the weights action", a.Algorithm)
		}
		return d, note, nil
	}
	switch {
	case in.ForcedAlgorithm != "":
		d.Algorithm = in.ForcedAlgorithm
		if a.Algorithm != "" && a.Algorithm != string(in.ForcedAlgorithm) {
			note = fmt.Sprintf("algorithm %s replaced by %s, forced by --algorithm", a.Algorithm, in.ForcedAlgorithm)
		}
	case a.Algorithm != "":
		alg, err := rl.ParseAlgorithm(a.Algorithm)
		if err != nil {
			return agent.Decision{}, "", err
		}
		d.Algorithm = alg
	case in.Recommended != "":
		d.Algorithm = in.Recommended
		note = fmt.Sprintf("no algorithm given: using the recommended %s", in.Recommended)
	default:
		return agent.Decision{}, "", fmt.Errorf("algorithm is required for the weights action (one of %s)", strings.Join(algorithmNames(), ", "))
	}
	return d, note, nil
}

// submitDecisionTool validates a decision and, when it is sound, stores it
// in *out and ends the session. check runs action-specific checks (the
// harness action needs an edited harness).
func submitDecisionTool(in *agent.FeedbackInput, check func(agent.Decision) error, out *agent.Decision, submitted *bool) Tool {
	allowed := allowedActions(in.Mode, in.CanTrain)
	return Tool{
		Final: true,
		Spec: llm.Tool{
			Name: ToolSubmitDecision,
			Description: "Submit this generation's decision and end the session. action harness: the edited harness in the generation folder is used next; " +
				"weights: train a new adapter with algorithm (default: the recommended one) on fresh rollouts of the incumbent harness on train-split items, starting from the incumbent's adapter, harness unchanged; " +
				"stop: end the run. Allowed now: " + strings.Join(allowed, ", ") + ".",
			Parameters: schema(map[string]prop{
				"action":     {typ: "string", desc: "the lever for the next generation", enum: allowed},
				"algorithm":  {typ: "string", desc: "RL algorithm for the weights action", enum: algorithmNames()},
				"rationale":  {typ: "string", desc: "why this lever, citing the evidence; say why when overriding the recommended algorithm"},
				"hypothesis": {typ: "string", desc: "what is limiting the score now"},
				"expected":   {typ: "string", desc: "the score change you expect and why"},
				"risk":       {typ: "string", desc: "what could go wrong"},
			}, "action", "rationale", "hypothesis", "expected", "risk"),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a decisionArgs
			if err := decodeArgs(raw, &a, "action", "rationale", "hypothesis", "expected", "risk"); err != nil {
				return "", err
			}
			d, note, err := validateDecision(a, in)
			if err != nil {
				return "", err
			}
			if check != nil {
				if err := check(d); err != nil {
					return "", err
				}
			}
			*out, *submitted = d, true
			msg := "decision recorded: " + d.Action
			if d.Algorithm != "" {
				msg += " with " + string(d.Algorithm)
			}
			if note != "" {
				msg += " (" + note + ")"
			}
			return msg, nil
		},
	}
}
