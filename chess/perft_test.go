package chess

import (
	"slices"
	"testing"
)

// Reference counts from the Chess Programming Wiki's perft results page,
// through the library's move generator.
func TestPerft(t *testing.T) {
	for _, tc := range append(slices.Clone(perftSuite), perftDeep...) {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.want > 50000 {
				t.Skip("-short")
			}
			p, err := ParseFEN(tc.fen)
			if err != nil {
				t.Fatal(err)
			}
			if got := Perft(p, tc.depth); got != tc.want {
				t.Fatalf("perft(%d) = %d, want %d", tc.depth, got, tc.want)
			}
		})
	}
}
