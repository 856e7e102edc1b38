package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Field is one value of a JSON object, flattened for display: a nested
// object's fields get dotted keys ("selection.gain_lo"), arrays stay JSON.
type Field struct {
	Key   string   `json:"key"`
	Value string   `json:"value"`         // for display: numbers to 4 significant digits
	Num   *float64 `json:"num,omitempty"` // set when the value is a number
}

// Fields flattens a JSON object into its fields, in file order. Files
// written by other versions of sia (or other tools) may carry fields this
// package does not know; they are kept, not dropped.
func Fields(b []byte) ([]Field, error) {
	var out []Field
	if err := flatten(b, "", &out); err != nil {
		return nil, err
	}
	return out, nil
}

func flatten(b []byte, prefix string, out *[]Field) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want a JSON object, got %v", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := prefix + tok.(string) // object keys are strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && raw[0] == '{' {
			if err := flatten(raw, key+".", out); err != nil {
				return err
			}
			continue
		}
		*out = append(*out, scalar(key, raw))
	}
	return nil
}

// maxValue bounds a displayed array or string.
const maxValue = 400

func scalar(key string, raw json.RawMessage) Field {
	f := Field{Key: key}
	switch {
	case len(raw) == 0:
	case raw[0] == '"':
		var s string
		_ = json.Unmarshal(raw, &s) // a valid JSON string: the decoder checked it
		f.Value = s
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		if v, err := strconv.ParseFloat(string(raw), 64); err == nil {
			f.Num = &v
			f.Value = FormatNum(v)
		} else {
			f.Value = string(raw)
		}
	default: // true, false, null, arrays
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			f.Value = buf.String()
		} else {
			f.Value = string(raw)
		}
	}
	if len(f.Value) > maxValue {
		f.Value = f.Value[:maxValue] + "…"
	}
	return f
}

// FormatNum prints a number for people: integers as they are, others to
// four significant digits.
func FormatNum(v float64) string {
	if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Decision is a decision.json or feedback.json read for display: the
// fields sia writes today by name, and every other field in Extra, so a
// field added later (a selection test's gain interval, say) shows up
// without a change here.
type Decision struct {
	Action      string  `json:"action"`
	Algorithm   string  `json:"algorithm,omitempty"`
	Recommended string  `json:"recommended,omitempty"`
	Rationale   string  `json:"rationale"`
	RewardStats []Field `json:"reward_stats,omitempty"`
	// Improvement holds hypothesis, evidence, change, expected and risk,
	// those present, in that order.
	Improvement []Field `json:"improvement,omitempty"`
	Extra       []Field `json:"extra,omitempty"`
}

var improvementKeys = []string{"hypothesis", "evidence", "change", "expected", "risk"}

// ParseDecision reads a decision or feedback file.
func ParseDecision(b []byte) (*Decision, error) {
	fields, err := Fields(b)
	if err != nil {
		return nil, err
	}
	d := &Decision{}
	improvement := map[string]Field{}
	for _, f := range fields {
		switch {
		case f.Key == "action":
			d.Action = f.Value
		case f.Key == "algorithm":
			d.Algorithm = f.Value
		case f.Key == "recommended":
			d.Recommended = f.Value
		case f.Key == "rationale":
			d.Rationale = f.Value
		case strings.HasPrefix(f.Key, "reward_stats."):
			f.Key = strings.TrimPrefix(f.Key, "reward_stats.")
			d.RewardStats = append(d.RewardStats, f)
		case isImprovement(f.Key):
			improvement[f.Key] = f
		default:
			d.Extra = append(d.Extra, f)
		}
	}
	for _, k := range improvementKeys {
		if f, ok := improvement[k]; ok && f.Value != "" {
			d.Improvement = append(d.Improvement, f)
		}
	}
	return d, nil
}

func isImprovement(key string) bool {
	for _, k := range improvementKeys {
		if k == key {
			return true
		}
	}
	return false
}
