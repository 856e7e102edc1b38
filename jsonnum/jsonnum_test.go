package jsonnum

import (
	"reflect"
	"testing"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		mode Mode
		want any
	}{
		{"float: integers are floats", `{"a": 3, "b": [1.5, -2]}`, Float, map[string]any{"a": 3.0, "b": []any{1.5, -2.0}}},
		{"float: out of range keeps its text", `[1e400]`, Float, []any{"1e400"}},
		{"float: other values unchanged", `{"s": "3", "t": true, "n": null}`, Float, map[string]any{"s": "3", "t": true, "n": nil}},
		{"int: integral numbers are int64", `{"k": [3, 2.5, -7], "big": 9007199254740993}`, IntOrFloat,
			map[string]any{"k": []any{int64(3), 2.5, int64(-7)}, "big": int64(9007199254740993)}},
		{"int: 3.0 is a float literal", `[3.0, 1e2]`, IntOrFloat, []any{3.0, 100.0}},
		{"int: beyond int64 becomes float", `[18446744073709551616]`, IntOrFloat, []any{18446744073709551616.0}},
		{"bare number", `42`, IntOrFloat, int64(42)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.in), tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	if _, err := Decode([]byte(`{"a":`), Float); err == nil {
		t.Fatal("truncated JSON decoded without error")
	}
}
