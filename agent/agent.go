package agent

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/sia-agent/sia/agent/measure"
	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
	"github.com/sia-agent/sia/verify"
)

// Actions a Feedback-Agent may take.
const (
	ActionHarness = "harness" // rewrite the harness, weights fixed
	ActionWeights = "weights" // update the weights, harness fixed
	ActionStop    = "stop"
)

// Modes (operating points).
const (
	ModeHarness = "harness" // SIA-H: harness lever only
	ModeWeights = "weights" // weights lever only after gen 1
	ModeAuto    = "auto"    // SIA-W+H
)

// How the builtin Feedback-Agent chooses a lever (FeedbackInput.LeverChoice).
const (
	// LeverRules is the plateau rules of package builtin: the harness until
	// it stalls, the weights while they pay.
	LeverRules = "rules"
	// LeverBandit chooses among lever × algorithm by the run's measured
	// returns (FeedbackInput.Returns), from the rule table's prior.
	LeverBandit = "bandit"
)

// Decision is a Feedback-Agent's choice for the next generation. It is
// written to gen_<n>/decision.json; the improvement fields become
// improvement.md.
type Decision struct {
	Action      string       `json:"action"`
	Algorithm   rl.Algorithm `json:"algorithm,omitempty"`
	Rationale   string       `json:"rationale"`
	RewardStats rl.Stats     `json:"reward_stats"`
	// Recommended is the rule table's algorithm, kept beside the choice so an
	// override is visible.
	Recommended rl.Algorithm `json:"recommended,omitempty"`
	// Bandit is the lever choice's arithmetic when a bandit chose
	// (LeverBandit): every arm's measured return, prior and draw.
	Bandit *BanditChoice `json:"bandit,omitempty"`
	// Parent is the generation a weight update continues: an unproven
	// branch (FeedbackInput.Branch); 0 for the incumbent. The loop sets it.
	Parent int `json:"parent,omitempty"`
	// Ranked summarises the ranking of several candidate harnesses that
	// made this decision's harness (the loop's successive halving); the
	// full record is candidates.json in the same folder.
	Ranked *Ranking `json:"ranked,omitempty"`

	Hypothesis string `json:"hypothesis,omitempty"`
	Evidence   string `json:"evidence,omitempty"`
	Change     string `json:"change,omitempty"`
	Expected   string `json:"expected,omitempty"`
	Risk       string `json:"risk,omitempty"`
}

// GenSummary is one past generation as agents see it.
type GenSummary struct {
	Gen    int    `json:"gen"`
	Action string `json:"action"` // the lever that made it: initial, harness or weights
	// Parent is the incumbent the lever was applied to (0 for gen 1).
	Parent         int            `json:"parent,omitempty"`
	Algorithm      rl.Algorithm   `json:"algorithm,omitempty"`
	Score          float64        `json:"score"` // val
	Counts         map[string]int `json:"counts,omitempty"`
	HarnessSHA     string         `json:"harness_sha"`
	Knobs          map[string]any `json:"knobs,omitempty"`
	AdapterVersion int            `json:"adapter_version"`
	// Rationale is the reason given for the decision that made this
	// generation (the Meta-Agent's note for gen 1).
	Rationale string `json:"rationale,omitempty"`
	// Incumbent marks the best generation so far; Accepted says whether
	// this generation became the incumbent when it was verified.
	Incumbent bool `json:"incumbent,omitempty"`
	Accepted  bool `json:"accepted"`
	// Acceptance holds the paired acceptance test of this generation against
	// its parent when the run records one (gain and interval); nil until
	// then.
	Acceptance *Acceptance `json:"acceptance,omitempty"`
	DurationS  float64     `json:"duration_s"`
	Tokens     int         `json:"tokens"`
	CostUSD    float64     `json:"cost_usd,omitempty"`
	// Training summarises the weight update that made this generation.
	Training *Training `json:"training,omitempty"`
}

// Acceptance is a paired test of a candidate generation against its parent
// on val: the gain, its interval, and the verdict.
type Acceptance struct {
	Gain     float64 `json:"gain"`
	Lo       float64 `json:"lo"`
	Hi       float64 `json:"hi"`
	Level    float64 `json:"level,omitempty"` // e.g. 0.95
	Test     string  `json:"test,omitempty"`  // e.g. "paired t"
	P        float64 `json:"p_value"`         // one-sided p of "no gain"
	Accepted bool    `json:"accepted"`
	Reason   string  `json:"reason,omitempty"`
}

// Training is what a weight update did: its training curve (from the
// trainer's per-step log), where it started, and the shape of the train
// rollouts it learned from.
type Training struct {
	Algorithm rl.Algorithm `json:"algorithm"`
	// ParentAdapter is the version the update started from (0 = the base),
	// the adapter of generation ParentGen, the incumbent when it was made.
	ParentAdapter int `json:"parent_adapter"`
	ParentGen     int `json:"parent_gen"`
	Version       int `json:"version"`
	Rounds        int `json:"rounds"`
	Steps         int `json:"steps"`
	// First and Last average the first and last tenth of the steps.
	LossFirst   float64  `json:"loss_first"`
	LossLast    float64  `json:"loss_last"`
	RewardFirst float64  `json:"reward_first"`
	RewardLast  float64  `json:"reward_last"`
	KLLast      float64  `json:"kl_last"`
	KLMax       float64  `json:"kl_max"`
	LR          *float64 `json:"learning_rate,omitempty"` // when the trainer logs it
	// TrainStats is the reward shape of the train-split rollouts the update
	// learned from (never val).
	TrainStats *rl.Stats `json:"train_stats,omitempty"`
	TrainItems int       `json:"train_items"`
}

// Budget is what is left of the run's budget.
type Budget struct {
	RemainingGens int     `json:"remaining_generations"`
	SpentTokens   int     `json:"spent_tokens"`
	SpentUSD      float64 `json:"spent_usd"`
	LimitTokens   int     `json:"limit_tokens,omitempty"` // 0: none
	LimitUSD      float64 `json:"limit_usd,omitempty"`
}

// TrainPlan sizes a weight update's train-split rollouts: Rounds on-policy
// rounds, each rolling the incumbent out on Items fresh train items, Samples
// times each.
type TrainPlan struct {
	Items   int `json:"items"`
	Samples int `json:"samples"`
	Rounds  int `json:"rounds"`
}

// TrainRollouts describes the train-split rollouts a weight update would
// learn from, when the run has some of the incumbent's: their reward shape.
type TrainRollouts struct {
	Gen            int      `json:"gen"` // the weights generation that made them
	HarnessSHA     string   `json:"harness_sha"`
	AdapterVersion int      `json:"adapter_version"` // the adapter they were sampled from
	Stats          rl.Stats `json:"stats"`
}

// MetaInput is what the Meta-Agent gets to write the first harness.
type MetaInput struct {
	TaskName string
	TaskDoc  string
	// Reference is the task's reference harness.
	Reference harness.Source
	// Runtime is "starlark" or "python".
	Runtime string
	// GenDir is the generation folder the agent may write into.
	GenDir string
	// Measure evaluates a candidate harness on the train split (for LLM
	// agents' measuring tools); nil when not offered. TrainSize is the
	// number of train examples it draws on.
	Measure   MeasureFunc
	TrainSize int
	// Public is the task's public data folder, read-only to LLM agents; nil
	// when absent. Pass an fs.FS that cannot follow symlinks out of the
	// folder (os.Root.FS, fs.Sub of one, or an embed/MapFS).
	Public fs.FS
	// Docs is the docs/ folder (docs/harness.md is the harness API
	// reference), read-only to LLM agents; nil when absent.
	Docs fs.FS
	// SampleTasks (reference/SAMPLE_TASK_DESCRIPTIONS.md) and
	// SampleExecution (../_shared/sample_agent_execution.json) are what a
	// SIA task folder gives SIA's Meta-Agent besides task.md: example
	// task descriptions and a sample logged trajectory. "" when absent.
	SampleTasks     string
	SampleExecution string
}

// MeasureFunc evaluates a harness on the train split only — k-fold
// cross-validation, a seeded holdout sample, or the first n items — with
// each fold's labels kept from the harness (see package measure). Its cost
// is charged to the run. Agents never get per-item verdicts on val: val is
// the selection split, and a tool that scored val items one by one would let
// an agent fit them.
type MeasureFunc func(ctx context.Context, src harness.Source, req measure.Request) (*measure.Result, error)

// FeedbackInput is what the Feedback-Agent gets each generation.
type FeedbackInput struct {
	TaskName string
	TaskDoc  string
	Mode     string
	Gen      int // the generation just verified
	// Current is the harness that produced this generation; Incumbent is the
	// best so far (the base for the next harness edit).
	Current   harness.Source
	Incumbent harness.Source
	Decl      harness.Decl // the incumbent's declared knobs
	History   []GenSummary
	// IncumbentGen is the incumbent's generation (the loop's keep-best:
	// not always the best val score, since a candidate needs evidence).
	IncumbentGen int
	Higher       bool
	// Results is this generation's gold-free verdict on val.
	Results *verify.Result
	// Rollouts is this generation's trajectories (rewards, answers, steps; no gold).
	Rollouts []trajectory.Trajectory
	// Items are the val items rolled out, without labels.
	Items []task.Item
	// Branch, when set, is the unproven weights generation a weight update
	// would continue instead of the incumbent: the latest weight update of
	// the incumbent, not accepted, but with a positive val gain over it.
	// Training is cumulative, so its gain is kept until enough evidence
	// makes it (or a later update) the incumbent, or a step loses it.
	Branch *Branch
	// Stats is the reward shape of the val rollouts of the policy a weight
	// update would start from (Branch's, else the incumbent's), not
	// necessarily this generation's.
	Stats rl.Stats
	// TrainRollouts is the reward shape of the latest train rollouts of the
	// incumbent's harness, nil when the run has none yet.
	TrainRollouts *TrainRollouts
	// Memory is every change tried so far and what it gained.
	Memory *Memory
	// TrainPlan is what a weight update would roll out on the train split.
	TrainPlan TrainPlan
	// Budget is what is left of the run's budget.
	Budget Budget
	// Recommended is the rule table's algorithm for Stats ("" when nothing
	// can be learned: no token ids, equal rewards, no training unit).
	Recommended rl.Algorithm
	// ForcedAlgorithm is --algorithm, "" when free.
	ForcedAlgorithm rl.Algorithm
	// CanTrain is false when no trainer is available.
	CanTrain bool
	// RemainingGens counts generations left after this one.
	RemainingGens int
	// LeverChoice is how the builtin agent chooses a lever: LeverRules
	// ("" too) or LeverBandit.
	LeverChoice string
	// Returns is the run's measured return of each lever and algorithm
	// so far, in generation order.
	Returns []ArmReturns
	// Candidates is how many harness proposals the loop will rank this
	// generation (FeedbackOutput.Alternatives beyond the first); 1 or less
	// asks for one.
	Candidates int
	// Ranked lists every candidate harness ranked in earlier generations
	// (those eliminated on a slice of val among them).
	Ranked    []RankedCandidate
	GenDir    string
	Measure   MeasureFunc
	TrainSize int
	Seed      int64
	// Public and Docs are as in MetaInput.
	Public fs.FS
	Docs   fs.FS
}

// Branch is an unproven weights generation of the incumbent.
type Branch struct {
	Gen    int     `json:"gen"`
	Gain   float64 `json:"gain"` // its paired val gain over the incumbent
	PValue float64 `json:"p_value"`
}

// FeedbackOutput is a decision plus, for the harness action, the new harness.
type FeedbackOutput struct {
	Decision Decision
	Harness  *harness.Source // set when Decision.Action == ActionHarness
	// Alternatives are further harness proposals (each a harness decision
	// with its harness), ranked by the loop against this one when
	// FeedbackInput.Candidates asks for more than one; the winner's
	// decision is the generation's.
	Alternatives []FeedbackOutput
}

// Meta writes the first harness.
type Meta interface {
	Initial(ctx context.Context, in MetaInput) (harness.Source, error)
}

// Feedback picks one lever per generation.
type Feedback interface {
	Decide(ctx context.Context, in FeedbackInput) (FeedbackOutput, error)
}

// Fallback is a Feedback-Agent that asks Primary and, when it fails to
// decide (a turn or token limit, a provider error), asks Secondary, so one
// bad LLM session does not end a run. The rationale says it happened.
type Fallback struct {
	Primary, Secondary Feedback
	// OnFallback, when set, is told why the primary failed.
	OnFallback func(err error)
}

// Decide implements Feedback.
func (f Fallback) Decide(ctx context.Context, in FeedbackInput) (FeedbackOutput, error) {
	out, err := f.Primary.Decide(ctx, in)
	if err == nil || ctx.Err() != nil {
		return out, err
	}
	if f.OnFallback != nil {
		f.OnFallback(err)
	}
	out, err2 := f.Secondary.Decide(ctx, in)
	if err2 != nil {
		return out, fmt.Errorf("%w; fallback agent: %v", err, err2)
	}
	out.Decision.Rationale = fmt.Sprintf("(primary agent failed: %v) %s", err, out.Decision.Rationale)
	return out, nil
}
