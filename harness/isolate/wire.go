package isolate

import (
	"encoding/json"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// Operations of the parent–worker protocol: one JSON object per line on
// the worker's stdin (parent → worker) and stdout (worker → parent).
const (
	opLoad    = "load"    // → load a harness (Src, Env); one per worker
	opInspect = "inspect" // → read a source's declared knobs (Src)
	opSolve   = "solve"   // → solve Item as sample Sample with seed Seed (ID)
	opCancel  = "cancel"  // → stop solve ID
	opReply   = "reply"   // → the answer to model call Call
	opLoaded  = "loaded"  // ← Load or Inspect finished (Decl or Error, setup Logs)
	opModel   = "model"   // ← solve ID asks the task model (Call, Request)
	opDone    = "done"    // ← solve ID finished (Answer or Error, Steps)
)

// message is one line of the protocol. Fields are set per operation.
type message struct {
	Op   string `json:"op"`
	ID   int64  `json:"id,omitempty"`
	Call int64  `json:"call,omitempty"`

	Src *source  `json:"src,omitempty"`
	Env *envWire `json:"env,omitempty"`

	Item   *task.Item `json:"item,omitempty"`
	Sample int        `json:"sample,omitempty"`
	Seed   int64      `json:"seed,omitempty"`

	Request    *llm.Request    `json:"request,omitempty"`
	Completion *llm.Completion `json:"completion,omitempty"`

	Answer string            `json:"answer,omitempty"`
	Error  string            `json:"error,omitempty"`
	Steps  []trajectory.Step `json:"steps,omitempty"`
	Decl   *harness.Decl     `json:"decl,omitempty"`
	Logs   []string          `json:"logs,omitempty"`
}

// source is a harness.Source on the wire. Knobs travel as knobs.json
// bytes so integers stay integers (harness.ParseKnobs).
type source struct {
	Name  string          `json:"name"`
	Code  []byte          `json:"code"`
	Knobs json.RawMessage `json:"knobs,omitempty"`
}

func toWire(s harness.Source) (*source, error) {
	w := &source{Name: s.Name, Code: s.Code}
	if len(s.Knobs) > 0 {
		b, err := json.Marshal(s.Knobs)
		if err != nil {
			return nil, err
		}
		w.Knobs = b
	}
	return w, nil
}

func (w *source) harness() (harness.Source, error) {
	s := harness.Source{Name: w.Name, Code: w.Code}
	if len(w.Knobs) > 0 {
		k, err := harness.ParseKnobs(w.Knobs)
		if err != nil {
			return s, err
		}
		s.Knobs = k
	}
	return s, nil
}

// envWire is the part of a harness.Env that crosses: the data view as
// files, the train examples, the task doc and seed. The model stays in
// the parent (HasModel says whether model calls may be made).
type envWire struct {
	TaskDoc  string            `json:"task_doc"`
	Train    []task.Example    `json:"train"`
	Files    map[string][]byte `json:"files"`
	Seed     int64             `json:"seed"`
	HasModel bool              `json:"has_model"`
}
