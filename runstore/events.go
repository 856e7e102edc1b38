package runstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/sia-agent/sia/rl"
)

// EventVersion is written into every event.
const EventVersion = 1

// Event types, in the order a generation produces them.
const (
	EvRunStarted     = "run_started"
	EvHarnessReady   = "harness_ready"   // gen_<n>/harness.* and knobs.json are written
	EvRolloutDone    = "rollout_done"    // gen_<n>/rollouts.jsonl is written (answers, no rewards yet)
	EvVerified       = "verified"        // gen_<n>/results.json written, rewards folded into rollouts.jsonl
	EvDecided        = "decided"         // gen_<n+1>/decision.json, improvement.md (and the new harness) written
	EvAdapterTrained = "adapter_trained" // gen_<n+1>/adapter/ written
	EvConfirmed      = "confirmed"       // best/fresh_results.json (and confirm_results.json) written
	EvTestScored     = "test_scored"     // best/test_results.json written
	EvRunFinished    = "run_finished"
	// EvRunExtended reopens a run for more generations (sia run --resume
	// with a larger --max-gen): the test score and the finish are undone,
	// and a last decision to stop is asked again.
	EvRunExtended = "run_extended"
)

// Event is one line of events.jsonl. Fields are set per type.
type Event struct {
	V    int    `json:"v"`
	Seq  int    `json:"seq"`
	Type string `json:"type"`
	Gen  int    `json:"gen,omitempty"`

	// harness_ready
	HarnessSHA string `json:"harness_sha,omitempty"`
	Source     string `json:"source,omitempty"` // meta | feedback

	// rollout_done, verified
	Samples   int      `json:"samples,omitempty"`
	Tokens    int      `json:"tokens,omitempty"`
	CostUSD   float64  `json:"cost_usd,omitempty"`
	DurationS float64  `json:"duration_s,omitempty"`
	Score     *float64 `json:"score,omitempty"`

	// verified: how the generation compared with the incumbent and whether
	// it became the incumbent (absent in logs written before selection was
	// recorded: Replay then keeps any strict improvement).
	Selection *Selection `json:"selection,omitempty"`

	// confirmed: the final incumbent re-scored before the test.
	Confirm *Confirmation `json:"confirm,omitempty"`

	// decided
	Action    string       `json:"action,omitempty"`
	Algorithm rl.Algorithm `json:"algorithm,omitempty"`
	Rationale string       `json:"rationale,omitempty"`
	// Parent is the weights generation a weight update continues (an
	// unproven branch of the incumbent); 0: the incumbent.
	Parent int `json:"parent,omitempty"`

	// adapter_trained (Tokens: the train rollouts' tokens)
	AdapterVersion int    `json:"adapter_version,omitempty"`
	AdapterDir     string `json:"adapter_dir,omitempty"`

	// run_finished
	Reason string `json:"reason,omitempty"`

	// run_extended
	MaxGen int `json:"max_gen,omitempty"`
}

// ParseEvents reads events.jsonl. A torn last line (a kill mid-append) is
// dropped; a bad line elsewhere is an error.
func ParseEvents(r io.Reader) ([]Event, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var out []Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	lines := bytes.Count(data, []byte("\n"))
	torn := len(data) > 0 && data[len(data)-1] != '\n'
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			if torn && n == lines+1 {
				break // the unfinished final line of a killed run
			}
			return nil, fmt.Errorf("%s line %d: %w", EventsFile, n, err)
		}
		if torn && n == lines+1 {
			break // complete JSON but no newline: treat as unwritten too
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
