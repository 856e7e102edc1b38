package jsonnum

import (
	"bytes"
	"encoding/json"
)

// Mode says what a JSON number becomes.
type Mode int

const (
	// Float makes every number a float64; a number float64 cannot hold
	// (out of range) keeps its literal text as a string.
	Float Mode = iota
	// IntOrFloat makes integral numbers int64 and the others float64.
	IntOrFloat
)

// Decode decodes one JSON value from b into a generic value (nil, bool,
// string, []any, map[string]any) whose numbers follow m.
func Decode(b []byte, m Mode) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return Convert(v, m), nil
}

// Convert replaces every json.Number in v — v itself, or inside its maps
// and slices, which are changed in place — by the value m says, and
// returns v.
func Convert(v any, m Mode) any {
	switch x := v.(type) {
	case json.Number:
		return number(x, m)
	case []any:
		for i := range x {
			x[i] = Convert(x[i], m)
		}
	case map[string]any:
		for k := range x {
			x[k] = Convert(x[k], m)
		}
	}
	return v
}

func number(n json.Number, m Mode) any {
	if m == IntOrFloat {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	f, err := n.Float64()
	if err != nil && m == Float {
		return n.String()
	}
	return f
}
