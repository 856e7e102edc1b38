package runstore

// Selection is how a verified generation compared with the incumbent on
// the selection slice of val, item by item, and whether it became the
// incumbent. It is recorded in the verified event and in
// gen_<n>/selection.json.
type Selection struct {
	// Incumbent is the generation compared with (0 for the first
	// generation, which becomes the incumbent without a comparison).
	Incumbent      int     `json:"incumbent"`
	IncumbentScore float64 `json:"incumbent_score"`
	Score          float64 `json:"score"`
	// Rule is the acceptance rule: "any" (any strict improvement of the
	// score) or "p<LEVEL" (the paired test's one-sided p-value below LEVEL
	// and a strict improvement).
	Rule string `json:"rule"`
	// Test names the paired test and Method how its p-value was computed.
	Test   string `json:"test,omitempty"`
	Method string `json:"method,omitempty"`
	// N items were paired; Gain is the mean per-item difference of the
	// reward (a mean over the samples), oriented so that positive is
	// better; SE its paired standard error; [GainLo, GainHi] its t
	// interval at CILevel.
	N       int     `json:"n"`
	Gain    float64 `json:"gain"`
	SE      float64 `json:"se"`
	GainLo  float64 `json:"gain_lo"`
	GainHi  float64 `json:"gain_hi"`
	CILevel float64 `json:"ci_level,omitempty"`
	Wins    int     `json:"wins"`
	Losses  int     `json:"losses"`
	Ties    int     `json:"ties"`
	PValue  float64 `json:"p_value"`
	// Accepted says the generation became the incumbent; Reason says why
	// it did or did not.
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason"`
}

// SliceScore is a score on one set of items with its uncertainty: the
// mean over items of the per-item reward (a mean over samples), its
// standard error over items, and the t interval at 95 %.
type SliceScore struct {
	Items   int     `json:"items"`
	Samples int     `json:"samples"`
	Score   float64 `json:"score"` // the task's metric on these items
	SE      float64 `json:"se"`
	Lo      float64 `json:"lo"`
	Hi      float64 `json:"hi"`
}

// Confirmation is the final incumbent re-scored before the test: on fresh
// samples of the selection slice (a random stream no selection used), and
// on the confirmation slice of val, which no selection, agent or search
// rollout saw. Neither is the maximum of many noisy tries.
type Confirmation struct {
	Gen            int         `json:"gen"`
	SelectionScore float64     `json:"selection_score"` // the val score it was selected on
	Fresh          *SliceScore `json:"fresh,omitempty"`
	Holdout        *SliceScore `json:"holdout,omitempty"` // nil when val has no confirmation slice
}
