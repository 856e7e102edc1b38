package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// isCJK reports whether r is an ideograph or kana/hangul syllable: scripts
// written without spaces, where each character is a token of its own.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// Words splits s into word tokens: maximal runs of letters, digits and
// marks, with each CJK character a token by itself (those scripts put no
// spaces between words). Punctuation and spaces separate tokens and are
// dropped. Lowercase first if case should not matter.
func Words(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		switch {
		case isCJK(r):
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			out = append(out, s[i:i+utf8.RuneLen(r)])
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// Chars splits s into its characters (runes), spaces included.
func Chars(s string) []string {
	out := make([]string, 0, len(s))
	for i, r := range s {
		out = append(out, s[i:i+utf8.RuneLen(r)])
	}
	return out
}

// NGrams returns the n-grams of tokens for every n in [lo, hi], joined with
// sep, shortest first. n larger than the token count yields nothing.
func NGrams(tokens []string, lo, hi int, sep string) []string {
	if lo < 1 {
		lo = 1
	}
	var out []string
	for n := lo; n <= hi; n++ {
		for i := 0; i+n <= len(tokens); i++ {
			if n == 1 {
				out = append(out, tokens[i])
				continue
			}
			out = append(out, strings.Join(tokens[i:i+n], sep))
		}
	}
	return out
}

// CharNGrams emits the character n-grams of s for n in [lo, hi] without
// building intermediate token slices (the hot path of char TF-IDF).
func CharNGrams(s string, lo, hi int, emit func(string)) {
	if lo < 1 {
		lo = 1
	}
	// starts[i] is the byte offset of rune i; starts[len] = len(s).
	starts := make([]int, 0, len(s)+1)
	for i := range s {
		starts = append(starts, i)
	}
	n := len(starts)
	starts = append(starts, len(s))
	for k := lo; k <= hi; k++ {
		for i := 0; i+k <= n; i++ {
			emit(s[starts[i]:starts[i+k]])
		}
	}
}

// Normalize lowercases s (when lower), turns every run of white space into
// one space, drops punctuation and symbols (when stripPunct), and trims.
// Full-width ASCII forms (common in CJK text) are folded to ASCII.
func Normalize(s string, lower, stripPunct bool) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		} else if r == 0x3000 { // ideographic space
			r = ' '
		}
		if lower {
			r = unicode.ToLower(r)
		}
		if stripPunct && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
			r = ' '
		}
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// EditDistance is the Levenshtein distance between a and b, in runes.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
