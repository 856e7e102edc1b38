package llmagent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// decodeArgs decodes a tool's JSON arguments into dst (a pointer to a
// struct with json tags), refusing unknown fields and requiring the named
// keys, so a model that misnames an argument learns which ones exist.
func decodeArgs(raw json.RawMessage, dst any, required ...string) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return fmt.Errorf("arguments must be a JSON object: %v", err)
	}
	var missing []string
	for _, k := range required {
		if v, ok := keys[k]; !ok || string(v) == "null" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing argument %s", strings.Join(missing, ", "))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("bad arguments: %v", err)
	}
	return nil
}

// schema builds a JSON-schema object for a tool's parameters.
func schema(props map[string]prop, required ...string) json.RawMessage {
	type jsProp struct {
		Type        string   `json:"type"`
		Description string   `json:"description,omitempty"`
		Enum        []string `json:"enum,omitempty"`
		Minimum     *int     `json:"minimum,omitempty"`
	}
	ps := make(map[string]jsProp, len(props))
	for name, p := range props {
		ps[name] = jsProp{Type: p.typ, Description: p.desc, Enum: p.enum, Minimum: p.min}
	}
	if required == nil {
		required = []string{}
	}
	sort.Strings(required)
	b, err := json.Marshal(struct {
		Type                 string            `json:"type"`
		Properties           map[string]jsProp `json:"properties"`
		Required             []string          `json:"required"`
		AdditionalProperties bool              `json:"additionalProperties"`
	}{"object", ps, required, false})
	if err != nil { // cannot happen: the fields are plain strings
		return json.RawMessage(`{"type":"object"}`)
	}
	return b
}

type prop struct {
	typ  string
	desc string
	enum []string
	min  *int
}

func intPtr(n int) *int { return &n }
