package task

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Spec is task.yaml. Every field has a documented default so a bare SIA task
// folder loads without one.
type Spec struct {
	Name        string `yaml:"name"`
	Title       string `yaml:"title,omitempty"`
	Description string `yaml:"description,omitempty"` // one line for `sia tasks`
	// Metric is the verifier's headline metric (default "accuracy").
	Metric string `yaml:"metric,omitempty"`
	// Direction is "max" (default) or "min".
	Direction string `yaml:"direction,omitempty"`
	// Runtime is "starlark" (default when reference/harness.star exists) or
	// "python" (SIA's target_agent.py contract).
	Runtime string `yaml:"runtime,omitempty"`
	// Harness is the reference harness path inside the task folder
	// (default reference/harness.star, else reference/target_agent.py).
	Harness string `yaml:"harness,omitempty"`
	// Verifier names how a task folder's answers are scored: a bundled
	// task's name (its Go verifier), "exact" (trimmed string equality, the
	// default), "exact_fold" (case and space insensitive), "number", or
	// "evaluate.py" (SIA's external evaluate.py --gen-dir contract). A
	// bundled task is scored by its Bundle's Scorer and sets none.
	Verifier string `yaml:"verifier,omitempty"`
	// Answer describes the expected answer format to agents.
	Answer string `yaml:"answer,omitempty"`
	// Items says how items are read from data files.
	Items ItemsSpec `yaml:"items"`
	// Splits says how each split is formed. Keys: train, val, test.
	Splits map[string]SplitSpec `yaml:"splits"`
	// Generator is read by nothing: a bundled task's data is made by its
	// Bundle.Generate, and a task folder's data is its data/ folder. The key
	// is accepted so task.yaml files that set it still load.
	Generator string `yaml:"generator,omitempty"`
	// Timeouts per item, seconds (default 60).
	ItemTimeoutS float64 `yaml:"item_timeout_s,omitempty"`
	// Submission is the file a python (SIA-contract) harness writes into its
	// working dir, e.g. submission.csv ("" = the first submission.* found).
	Submission string `yaml:"submission,omitempty"`
	// DataFiles lists the data files the task needs, relative to its data
	// folder, for `sia tasks` to report what is missing.
	DataFiles []string `yaml:"data_files,omitempty"`
}

// ItemsSpec says how to read items from a data file.
type ItemsSpec struct {
	// Format is csv, json (an array of objects, or an object of id → object)
	// or jsonl. Default: from the file extension.
	Format string `yaml:"format,omitempty"`
	// ID is the id column/key (default "id").
	ID string `yaml:"id,omitempty"`
	// Label is the label column/key in labelled files (default "label").
	Label string `yaml:"label,omitempty"`
}

// SplitSpec forms one split. Exactly one of File or CarveFrom is set.
type SplitSpec struct {
	// File is a data file relative to the data folder, e.g. public/train.csv.
	File string `yaml:"file,omitempty"`
	// Gold is where the labels of an unlabelled File live (private/...).
	Gold *GoldSpec `yaml:"gold,omitempty"`
	// CarveFrom names another split; this split takes Fraction (or Count) of
	// its items, chosen by a seeded shuffle, and that split loses them.
	CarveFrom string  `yaml:"carve_from,omitempty"`
	Fraction  float64 `yaml:"fraction,omitempty"`
	Count     int     `yaml:"count,omitempty"`
	Seed      int64   `yaml:"seed,omitempty"`
	// Max caps the split's size after forming (a seeded sample), 0 = all.
	Max int `yaml:"max,omitempty"`
	// Note says in words how the split is formed (shown by `sia tasks`).
	Note string `yaml:"note,omitempty"`
}

// GoldSpec locates labels for an unlabelled split.
type GoldSpec struct {
	File  string `yaml:"file"`
	ID    string `yaml:"id,omitempty"`    // default: the items' id key
	Label string `yaml:"label,omitempty"` // default: the items' label key
}

// Split names.
const (
	Train = "train"
	Val   = "val"
	Test  = "test"
)

// ParseSpec decodes task.yaml strictly: unknown keys are errors, so typos
// surface instead of silently doing nothing.
func ParseSpec(b []byte) (Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("task.yaml: %w", err)
	}
	return s, nil
}

// HigherIsBetter reports the metric direction.
func (s Spec) HigherIsBetter() bool { return s.Direction != "min" }

func (s *Spec) applyDefaults() {
	if s.Metric == "" {
		s.Metric = "accuracy"
	}
	if s.Direction == "" {
		s.Direction = "max"
	}
	if s.Items.ID == "" {
		s.Items.ID = "id"
	}
	if s.Items.Label == "" {
		s.Items.Label = "label"
	}
	if s.Verifier == "" {
		s.Verifier = "exact"
	}
	if s.ItemTimeoutS == 0 {
		s.ItemTimeoutS = 60
	}
}

func (s Spec) validate() error {
	if s.Name == "" {
		return fmt.Errorf("task.yaml: name is empty")
	}
	if s.ItemTimeoutS < 0 {
		return fmt.Errorf("task.yaml: item_timeout_s %g: want a positive number of seconds", s.ItemTimeoutS)
	}
	if s.Direction != "max" && s.Direction != "min" {
		return fmt.Errorf("task.yaml: direction %q: want max or min", s.Direction)
	}
	switch s.Runtime {
	case "starlark", "python":
	default:
		return fmt.Errorf("task.yaml: runtime %q: want starlark or python", s.Runtime)
	}
	for _, name := range []string{Train, Val, Test} {
		if _, ok := s.Splits[name]; !ok && name != Train {
			return fmt.Errorf("task.yaml: split %q is not defined", name)
		}
	}
	for name, sp := range s.Splits {
		switch name {
		case Train, Val, Test:
		default:
			return fmt.Errorf("task.yaml: unknown split %q (want train, val, test)", name)
		}
		if (sp.File == "") == (sp.CarveFrom == "") {
			return fmt.Errorf("task.yaml: split %q needs exactly one of file or carve_from", name)
		}
		if sp.CarveFrom != "" {
			if _, ok := s.Splits[sp.CarveFrom]; !ok || sp.CarveFrom == name {
				return fmt.Errorf("task.yaml: split %q carves from unknown split %q", name, sp.CarveFrom)
			}
			if (sp.Fraction <= 0 || sp.Fraction >= 1) && sp.Count <= 0 {
				return fmt.Errorf("task.yaml: split %q needs fraction in (0,1) or count > 0", name)
			}
		}
	}
	return nil
}
