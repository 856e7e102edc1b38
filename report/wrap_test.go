package report

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrap(t *testing.T) {
	long := strings.Repeat("word ", 60) + "a-very-long-token-" + strings.Repeat("x", 120)
	tests := []struct {
		name, in    string
		width       int
		first, rest string
		want        string // "" checks only widths and words
	}{
		{name: "short", in: "a b c", width: 10, first: "  ", rest: "    ", want: "  a b c"},
		{name: "breaks", in: "aa bb cc dd", width: 7, first: "", rest: "  ", want: "aa bb\n  cc dd"},
		{name: "exact", in: "aaa bbb", width: 7, first: "", rest: "", want: "aaa bbb"},
		{name: "unicode", in: "ä ö ü ß · ≥", width: 5, first: "", rest: "", want: "ä ö ü\nß · ≥"},
		{name: "long", in: long, width: 100, first: "  ", rest: "      "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := wrap(tc.in, tc.width, tc.first, tc.rest)
			if tc.want != "" && got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(tc.in), " ") {
				t.Fatalf("words changed: %q", got)
			}
			for i, l := range strings.Split(got, "\n") {
				words := strings.Fields(l)
				if n := utf8.RuneCountInString(l); n > tc.width && len(words) > 1 {
					t.Errorf("line %d is %d columns: %q", i, n, l)
				}
				if i > 0 && !strings.HasPrefix(l, tc.rest) {
					t.Errorf("line %d lacks its indent: %q", i, l)
				}
			}
		})
	}
}
