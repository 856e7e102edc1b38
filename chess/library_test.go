package chess

import (
	"testing"

	lib "github.com/corentings/chess/v2"
)

// TestLibraryGaps pins the behaviours of github.com/corentings/chess/v2
// that this package works around (doc.go lists them). When one fails, the
// library has changed: the workaround it names may be removable.
func TestLibraryGaps(t *testing.T) {
	libPos := func(fen string) *lib.Position {
		p := new(lib.Position)
		if err := p.UnmarshalText([]byte(fen)); err != nil {
			t.Fatalf("library rejects %q: %v", fen, err)
		}
		return p
	}
	libMoves := func(p *lib.Position) map[string]bool {
		out := map[string]bool{}
		for _, m := range p.ValidMoves() {
			out[m.String()] = true
		}
		return out
	}
	t.Run("FEN without kings is accepted (ParseFEN checks)", func(t *testing.T) {
		libPos("8/8/8/8/8/8/8/8 w - - 0 1")
	})
	t.Run("castling rights without the rook castle (ParseFEN drops them)", func(t *testing.T) {
		if !libMoves(libPos("4k3/8/8/8/8/8/8/4K3 w KQ - 0 1"))["e1g1"] {
			t.Fatal("the library no longer castles without a rook")
		}
	})
	t.Run("en passant onto a square with no pawn to take (ParseFEN drops it)", func(t *testing.T) {
		if !libMoves(libPos("4k3/8/8/4P3/8/8/8/4K3 w - d6 0 1"))["e5d6"] {
			t.Fatal("the library no longer takes en passant from nothing")
		}
	})
	t.Run("FEN needs all six fields (ParseFEN fills the counters)", func(t *testing.T) {
		if err := new(lib.Position).UnmarshalText([]byte("4k3/8/8/8/8/8/8/4K3 w - -")); err == nil {
			t.Fatal("the library now reads a FEN without counters")
		}
	})
	start := libPos(StartFEN)
	t.Run("SAN reader takes a wrong origin (ParseSAN matches SAN itself)", func(t *testing.T) {
		m, err := lib.AlgebraicNotation{}.Decode(start, "Nbf3")
		if err != nil || m.String() != "g1f3" {
			t.Fatalf("Decode(Nbf3) = %v, %v", m, err)
		}
	})
	for lenient, canonical := range map[string]string{"0-0": "O-O", "a8Q": "a8=Q", "a8=q": "a8=Q"} {
		t.Run("SAN reader rejects "+lenient+" (ParseSAN reads it)", func(t *testing.T) {
			p := libPos("4k3/P7/8/8/8/8/8/4K2R w K - 0 1")
			if _, err := (lib.AlgebraicNotation{}).Decode(p, canonical); err != nil {
				t.Fatalf("the library rejects %q too: %v", canonical, err)
			}
			if _, err := (lib.AlgebraicNotation{}).Decode(p, lenient); err == nil {
				t.Fatalf("the library now reads %q", lenient)
			}
		})
	}
	t.Run("UCI reader checks only the first square (ParseUCI matches legal moves)", func(t *testing.T) {
		m, err := lib.UCINotation{}.Decode(libPos("4k3/8/8/8/8/8/4R3/4K3 w - - 0 1"), "e2i1")
		if err != nil || m.String() != "e2a2" {
			t.Fatalf("Decode(e2i1) = %v, %v", m, err)
		}
	})
	t.Run("UnmarshalText keeps a stale move cache (ParseFEN uses a fresh position)", func(t *testing.T) {
		p := libPos(StartFEN)
		p.ValidMoves()
		if err := p.UnmarshalText([]byte("4k3/8/8/8/8/8/8/4K3 w - - 0 1")); err != nil {
			t.Fatal(err)
		}
		if len(p.ValidMoves()) != 20 {
			t.Fatalf("the library now refreshes its move cache: %d moves", len(p.ValidMoves()))
		}
	})
}
