package text

import (
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello, world! 42x", []string{"Hello", "world", "42x"}},
		{"被告人张某盗窃", []string{"被", "告", "人", "张", "某", "盗", "窃"}},
		{"abc中文def", []string{"abc", "中", "文", "def"}},
		{"  ", nil},
		{"café-au-lait", []string{"café", "au", "lait"}},
	}
	for _, tc := range tests {
		if got := Words(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNGrams(t *testing.T) {
	tests := []struct {
		toks   []string
		lo, hi int
		want   []string
	}{
		{[]string{"a", "b", "c"}, 1, 2, []string{"a", "b", "c", "a b", "b c"}},
		{[]string{"a", "b"}, 3, 3, nil},
		{[]string{"a", "b", "c"}, 3, 3, []string{"a b c"}},
	}
	for _, tc := range tests {
		if got := NGrams(tc.toks, tc.lo, tc.hi, " "); !slices.Equal(got, tc.want) {
			t.Errorf("NGrams(%q, %d, %d) = %q, want %q", tc.toks, tc.lo, tc.hi, got, tc.want)
		}
	}
	var got []string
	CharNGrams("中文ab", 2, 3, func(s string) { got = append(got, s) })
	want := []string{"中文", "文a", "ab", "中文a", "文ab"}
	if !slices.Equal(got, want) {
		t.Errorf("CharNGrams = %q, want %q", got, want)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in                string
		lower, stripPunct bool
		want              string
	}{
		{"  Hello,\t  World!  ", true, false, "hello, world!"},
		{"Hello, World!", true, true, "hello world"},
		{"ＡＢＣ　１２３", false, false, "ABC 123"},
		{"Keep Case", false, false, "Keep Case"},
	}
	for _, tc := range tests {
		if got := Normalize(tc.in, tc.lower, tc.stripPunct); got != tc.want {
			t.Errorf("Normalize(%q, %v, %v) = %q, want %q", tc.in, tc.lower, tc.stripPunct, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"盗窃罪", "盗窃", 1}, {"flaw", "lawn", 2},
	}
	for _, tc := range tests {
		if got := EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
