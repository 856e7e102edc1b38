package builtin

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/rl"
)

// accepted marks a history entry as the loop recorded it.
func accepted(g agent.GenSummary, ok bool) agent.GenSummary { g.Accepted = ok; return g }

func pull(gen int, gain float64, ok bool) agent.Pull {
	return agent.Pull{Gen: gen, Gain: gain, Accepted: ok, Seconds: 10, Tokens: 1000}
}

// banditInput is an auto-mode input where the loop says which generations
// were accepted, with the given returns.
func banditInput(seed int64, returns []agent.ArmReturns, hist ...agent.GenSummary) agent.FeedbackInput {
	in := input(agent.ModeAuto, true, 10, hist...)
	in.LeverChoice = agent.LeverBandit
	in.Seed = seed
	in.Returns = returns
	for _, h := range hist {
		if h.Accepted {
			in.IncumbentGen = h.Gen
		}
	}
	return in
}

func TestBanditIsSeededAndStatesItsReasons(t *testing.T) {
	in := banditInput(5, nil, accepted(gen(1, "initial", 0.3, nil), true))
	a, err := Feedback{}.Decide(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Feedback{}.Decide(t.Context(), in)
	if !reflect.DeepEqual(a.Decision, b.Decision) {
		t.Fatalf("same seed, different decisions:\n%+v\n%+v", a.Decision, b.Decision)
	}
	c := a.Decision.Bandit
	if c == nil || len(c.Arms) != 2 || c.Chosen == "" || !strings.Contains(c.Method, "Thompson") {
		t.Fatalf("bandit record %+v", c)
	}
	if !strings.HasPrefix(a.Decision.Rationale, "bandit: "+c.Chosen) || !strings.Contains(a.Decision.Rationale, "not pulled yet") {
		t.Errorf("rationale %q does not say why", a.Decision.Rationale)
	}
	names := []string{c.Arms[0].Arm, c.Arms[1].Arm}
	if names[0] != "harness" || names[1] != "weights/grpo" {
		t.Errorf("arms %v, want the harness and the rule table's algorithm only", names)
	}
	// The plateau rules' choice (the first knob move) has the prior.
	if c.Arms[0].Prior != banditPriorGain || c.Arms[1].Prior != 0 {
		t.Errorf("priors %v, %v", c.Arms[0].Prior, c.Arms[1].Prior)
	}
}

// choices runs the bandit over seeds 1..n and counts each arm.
func choices(t *testing.T, n int, mk func(seed int64) agent.FeedbackInput) map[string]int {
	t.Helper()
	out := map[string]int{}
	for seed := int64(1); seed <= int64(n); seed++ {
		o, err := Feedback{}.Decide(t.Context(), mk(seed))
		if err != nil {
			t.Fatal(err)
		}
		out[o.Decision.Bandit.Chosen]++
	}
	return out
}

func TestBanditFollowsMeasuredReturn(t *testing.T) {
	hist := []agent.GenSummary{
		accepted(gen(1, "initial", 0.1, nil), true),
		accepted(gen(2, "weights", 0.3, nil), true),
		accepted(gen(3, "weights", 0.45, nil), true),
		accepted(gen(4, "harness", 0.44, map[string]any{"variant": "b"}), false),
		accepted(gen(5, "harness", 0.451, map[string]any{"n": int64(5)}), true),
	}
	hist[1].Algorithm, hist[2].Algorithm = rl.GRPO, rl.GRPO
	returns := []agent.ArmReturns{
		{Arm: "weights/grpo", Lever: "weights", Algorithm: rl.GRPO, Pulls: []agent.Pull{pull(2, 0.2, true), pull(3, 0.15, true)}},
		{Arm: "harness", Lever: "harness", Pulls: []agent.Pull{pull(4, -0.01, false), pull(5, 0.001, true)}},
	}
	// The plateau rules continue the harness search (gen 5 was accepted);
	// the weights paid far more per generation.
	rules, _ := Feedback{}.Decide(t.Context(), input(agent.ModeAuto, true, 10, hist...))
	if rules.Decision.Action != agent.ActionHarness {
		t.Fatalf("the rules chose %s; the test needs them to choose the harness", rules.Decision.Action)
	}
	got := choices(t, 50, func(seed int64) agent.FeedbackInput { return banditInput(seed, returns, hist...) })
	if got["weights/grpo"] < 45 {
		t.Errorf("over 50 seeds the bandit chose %v; want the paying weights lever almost always", got)
	}
}

func TestBanditTriesAFailingLeverLess(t *testing.T) {
	// --mode weights: the rule table recommends grpo, so the rules' arm is
	// weights/grpo; dpo paid once before. With the same history, the
	// bandit pulls grpo less often when its last two updates were rejected
	// than when it was never tried.
	hist := []agent.GenSummary{
		accepted(gen(1, "initial", 0.1, nil), true),
		accepted(gen(2, "weights", 0.13, nil), true),
		accepted(gen(3, "weights", 0.12, nil), false),
		accepted(gen(4, "weights", 0.125, nil), false),
	}
	hist[1].Algorithm, hist[2].Algorithm, hist[3].Algorithm = rl.DPO, rl.GRPO, rl.GRPO
	dpo := agent.ArmReturns{Arm: "weights/dpo", Lever: "weights", Algorithm: rl.DPO, Pulls: []agent.Pull{pull(2, 0.03, true)}}
	grpo := agent.ArmReturns{Arm: "weights/grpo", Lever: "weights", Algorithm: rl.GRPO, Pulls: []agent.Pull{pull(3, -0.01, false), pull(4, -0.005, false)}}
	mk := func(returns ...agent.ArmReturns) func(int64) agent.FeedbackInput {
		return func(seed int64) agent.FeedbackInput {
			in := banditInput(seed, returns, hist...)
			in.Mode, in.IncumbentGen = agent.ModeWeights, 2
			return in
		}
	}
	const n = 400
	failing := choices(t, n, mk(dpo, grpo))
	untried := choices(t, n, mk(dpo))
	// Expected shares of grpo (normal posteriors, σ 0.01, discount 0.5):
	// 0.85 untried, 0.57 after two rejected updates: 112 of 400 apart,
	// about 8 binomial SEs. The draws are seeded, so the counts are fixed.
	if failing["weights/grpo"] >= untried["weights/grpo"]-60 {
		t.Errorf("grpo pulled %d of %d times after two rejected updates, %d times untried: want clearly fewer", failing["weights/grpo"], n, untried["weights/grpo"])
	}
	if failing["weights/grpo"] == 0 || failing["weights/dpo"] == 0 {
		t.Errorf("choices %v: want both arms in play", failing)
	}
}

func TestBanditArms(t *testing.T) {
	returns := []agent.ArmReturns{{Arm: "weights/dpo", Lever: "weights", Algorithm: rl.DPO, Pulls: []agent.Pull{pull(2, 0.05, true)}}}
	hist := []agent.GenSummary{accepted(gen(1, "initial", 0.1, nil), true), accepted(gen(2, "weights", 0.15, nil), true)}
	tests := []struct {
		name   string
		modify func(*agent.FeedbackInput)
		want   []string
	}{
		{"tried algorithms stay arms", nil, []string{"harness", "weights/grpo", "weights/dpo"}},
		{"a tried algorithm with no unit now is dropped", func(in *agent.FeedbackInput) { in.Stats.Units = &rl.Units{GRPO: 3} },
			[]string{"harness", "weights/grpo"}},
		{"a forced algorithm is the only weights arm", func(in *agent.FeedbackInput) { in.ForcedAlgorithm = rl.PPO },
			[]string{"harness", "weights/ppo"}},
		{"no trainer: the harness alone", func(in *agent.FeedbackInput) { in.CanTrain = false }, []string{"harness"}},
		{"weights mode: no harness arm", func(in *agent.FeedbackInput) { in.Mode = agent.ModeWeights },
			[]string{"weights/grpo", "weights/dpo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := banditInput(1, returns, hist...)
			if tc.modify != nil {
				tc.modify(&in)
			}
			out, err := Feedback{}.Decide(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if out.Decision.Bandit != nil {
				for _, a := range out.Decision.Bandit.Arms {
					got = append(got, a.Arm)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("arms %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCandidatesAreDistinctUntriedMoves(t *testing.T) {
	in := input(agent.ModeHarness, false, 0, gen(1, "initial", 0.3, nil))
	in.Candidates = 3
	// variant=b lost a ranking on a val slice in an earlier generation.
	in.Ranked = []agent.RankedCandidate{{Gen: 2, Knobs: map[string]any{"variant": "b"}}}
	out, err := Feedback{}.Decide(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Alternatives) != 1 {
		t.Fatalf("%d alternatives, want 1 (three knobs, one setting eliminated: two moves left)", len(out.Alternatives))
	}
	all := append([]agent.FeedbackOutput{out}, out.Alternatives...)
	seen := map[string]bool{}
	for _, o := range all {
		if o.Decision.Action != agent.ActionHarness || o.Harness == nil {
			t.Fatalf("proposal %+v", o.Decision)
		}
		k := key(o.Harness.Knobs)
		if seen[k] || o.Harness.Knobs["variant"] == "b" {
			t.Errorf("proposal %s repeated or eliminated before", k)
		}
		seen[k] = true
	}
}
