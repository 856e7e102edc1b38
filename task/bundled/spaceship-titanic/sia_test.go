package spaceship

import "testing"

// TestParseBoolIsSIAs checks ParseBool against the behaviour of SIA's
// spaceship-titanic evaluate.py (hexo-ai/sia,
// sia/tasks/spaceship-titanic/data/public/evaluate.py, parse_bool): the
// value is stripped and lowercased, then true/t/1/yes/y is True,
// false/f/0/no/n is False, and anything else is invalid (None). The SIA
// column is what that code returns for each input; ours must be the same
// on every input, so the two evaluators give every submission the same
// accuracy (correct / all gold rows, invalid and missing counting as
// wrong, in both).
func TestParseBoolIsSIAs(t *testing.T) {
	const invalid = "invalid"
	tests := []struct{ in, sia string }{
		{"True", "true"}, {"true", "true"}, {" TRUE ", "true"}, {"t", "true"}, {"T", "true"},
		{"1", "true"}, {"yes", "true"}, {"Yes ", "true"}, {"y", "true"}, {"Y", "true"},
		{"False", "false"}, {"\tfalse\n", "false"}, {"f", "false"}, {"F", "false"}, {"0", "false"},
		{"no", "false"}, {"NO", "false"}, {"n", "false"}, {"N", "false"},
		{"1.0", invalid}, {"0.0", invalid}, {"maybe", invalid}, {"", invalid}, {"tru", invalid},
		{"T.", invalid}, {"2", invalid}, {"-1", invalid}, {"on", invalid}, {"off", invalid},
	}
	for _, tc := range tests {
		got := invalid
		if b, err := ParseBool(tc.in); err == nil {
			got = map[bool]string{true: "true", false: "false"}[b]
		}
		if got != tc.sia {
			t.Errorf("ParseBool(%q) = %s, SIA's parse_bool gives %s", tc.in, got, tc.sia)
		}
	}
}
