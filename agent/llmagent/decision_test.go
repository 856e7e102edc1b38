package llmagent

import (
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/rl"
)

func TestAllowedActions(t *testing.T) {
	tests := []struct {
		mode     string
		canTrain bool
		want     string
	}{
		{agent.ModeAuto, true, "harness,weights,stop"},
		{"", true, "harness,weights,stop"},
		{agent.ModeAuto, false, "harness,stop"},
		{agent.ModeHarness, true, "harness,stop"},
		{agent.ModeWeights, true, "weights,stop"},
		{agent.ModeWeights, false, "stop"},
	}
	for _, tt := range tests {
		if got := strings.Join(allowedActions(tt.mode, tt.canTrain), ","); got != tt.want {
			t.Errorf("allowedActions(%q, %v) = %s, want %s", tt.mode, tt.canTrain, got, tt.want)
		}
	}
}

func TestValidateDecision(t *testing.T) {
	full := decisionArgs{Rationale: "r", Hypothesis: "h", Expected: "e", Risk: "k"}
	with := func(action, alg string) decisionArgs {
		a := full
		a.Action, a.Algorithm = action, alg
		return a
	}
	auto := agent.FeedbackInput{Mode: agent.ModeAuto, CanTrain: true, Recommended: rl.GRPO, Stats: rl.Stats{N: 8}}
	tests := []struct {
		name     string
		args     decisionArgs
		in       agent.FeedbackInput
		wantAlg  rl.Algorithm
		wantNote string
		errPart  string
	}{
		{name: "harness", args: with("harness", ""), in: auto},
		{name: "weights recommended by default", args: with("weights", ""), in: auto, wantAlg: rl.GRPO, wantNote: "recommended grpo"},
		{name: "weights override", args: with("weights", "dpo"), in: auto, wantAlg: rl.DPO},
		{name: "forced wins", args: with("weights", "dpo"),
			in: agent.FeedbackInput{Mode: agent.ModeAuto, CanTrain: true, Recommended: rl.GRPO, ForcedAlgorithm: rl.PPO}, wantAlg: rl.PPO, wantNote: "forced"},
		{name: "forced when none given", args: with("weights", ""),
			in: agent.FeedbackInput{Mode: agent.ModeWeights, CanTrain: true, ForcedAlgorithm: rl.Entropic}, wantAlg: rl.Entropic},
		{name: "unknown algorithm", args: with("weights", "sgd"), in: auto, errPart: "unknown algorithm"},
		{name: "no algorithm known", args: with("weights", ""), in: agent.FeedbackInput{Mode: agent.ModeAuto, CanTrain: true}, errPart: "algorithm is required"},
		{name: "algorithm on harness ignored", args: with("harness", "ppo"), in: auto, wantNote: "ignored"},
		{name: "weights without trainer", args: with("weights", "ppo"), in: agent.FeedbackInput{Mode: agent.ModeAuto}, errPart: "no trainer"},
		{name: "weights in harness mode", args: with("weights", "ppo"), in: agent.FeedbackInput{Mode: agent.ModeHarness, CanTrain: true}, errPart: "allowed: harness, stop"},
		{name: "harness in weights mode", args: with("harness", ""), in: agent.FeedbackInput{Mode: agent.ModeWeights, CanTrain: true}, errPart: "not allowed"},
		{name: "unknown action", args: with("retrain", ""), in: auto, errPart: `action "retrain"`},
		{name: "empty rationale", args: decisionArgs{Action: "stop"}, in: auto, errPart: "rationale is empty"},
		{name: "stop needs only a rationale", args: decisionArgs{Action: "stop", Rationale: "plateau"}, in: auto},
		{name: "harness needs hypothesis", args: decisionArgs{Action: "harness", Rationale: "r", Expected: "e"}, in: auto, errPart: "hypothesis, risk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, note, err := validateDecision(tt.args, &tt.in)
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("err %v, want %q", err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.args.Action || d.Algorithm != tt.wantAlg {
				t.Errorf("decision %s/%s, want %s/%s", d.Action, d.Algorithm, tt.args.Action, tt.wantAlg)
			}
			if d.Recommended != tt.in.Recommended || d.RewardStats != tt.in.Stats {
				t.Errorf("recommended %q / stats %+v not carried", d.Recommended, d.RewardStats)
			}
			if !strings.Contains(note, tt.wantNote) || (tt.wantNote == "" && note != "") {
				t.Errorf("note %q, want %q", note, tt.wantNote)
			}
		})
	}
}
