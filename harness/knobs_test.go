package harness

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseKnobs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[string]any
		wantErr string
	}{
		{in: `{"votes": 3, "temperature": 0.7, "prompt": "short", "shots": [1, 2]}`,
			want: map[string]any{"votes": int64(3), "temperature": 0.7, "prompt": "short", "shots": []any{int64(1), int64(2)}}},
		{in: `{}`, want: nil},
		{in: `null`, want: nil},
		{in: `[1, 2]`, wantErr: "knobs.json must be a JSON object of knob settings: not an object"},
		{in: `{"votes": `, wantErr: "knobs.json must be a JSON object"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseKnobs([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}
