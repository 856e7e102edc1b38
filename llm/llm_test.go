package llm

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestUnsupported(t *testing.T) {
	img := json.RawMessage(`[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:,"}}]`)
	text := json.RawMessage(`[{"type":"text","text":"hi"}]`)
	extra := map[string]json.RawMessage{"tool_choice": json.RawMessage(`"auto"`), "presence_penalty": json.RawMessage(`1`)}
	tests := []struct {
		name  string
		req   Request
		caps  Capabilities
		field string // "" = supported
	}{
		{"plain", Request{Messages: []Message{{Role: RoleUser, Content: "hi"}}}, Capabilities{}, ""},
		{"extras, first by name", Request{Extra: extra}, Capabilities{}, "presence_penalty"},
		{"extras, one allowed", Request{Extra: extra}, Capabilities{Extra: map[string]bool{"presence_penalty": true}}, "tool_choice"},
		{"extras, all forwarded", Request{Extra: extra}, Capabilities{AllExtra: true}, ""},
		{"top logprobs", Request{TopLogprobs: 3}, Capabilities{}, "top_logprobs"},
		{"top logprobs honoured", Request{TopLogprobs: 3}, Capabilities{TopLogprobs: true}, ""},
		{"text parts", Request{Messages: []Message{{Role: RoleUser, Content: "hi", Parts: text}}}, Capabilities{}, ""},
		{"image part", Request{Messages: []Message{{Role: RoleSystem, Content: "s"}, {Role: RoleUser, Content: "hi", Parts: img}}}, Capabilities{}, "messages[1].content[1]"},
		{"image part honoured", Request{Messages: []Message{{Role: RoleUser, Parts: img}}}, Capabilities{ContentParts: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Unsupported("test backend", tt.caps)
			var ue *UnsupportedError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.field != "" && (!errors.As(err, &ue) || ue.Field != tt.field || ue.Backend != "test backend"):
				t.Fatalf("err = %v, want an UnsupportedError for %s", err, tt.field)
			}
		})
	}
}
