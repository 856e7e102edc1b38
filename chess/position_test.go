package chess

import (
	"sync"
	"testing"
)

// ParseFEN normalises what the library would misread.
func TestParseFENNormalises(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"rights without king or rook are dropped", "4k3/8/8/8/8/8/8/R3K3 w KQkq - 0 1", "4k3/8/8/8/8/8/8/R3K3 w Q - 0 1"},
		{"rights in any order", "r3k2r/8/8/8/8/8/8/R3K2R w qkQK - 0 1", "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"},
		{"en passant with nothing to take is dropped", "4k3/8/8/4P3/8/8/8/4K3 w - d6 0 1", "4k3/8/8/4P3/8/8/8/4K3 w - - 0 1"},
		{"en passant on the wrong rank is dropped", "4k3/8/8/3pP3/8/8/8/4K3 w - d3 0 1", "4k3/8/8/3pP3/8/8/8/4K3 w - - 0 1"},
		{"en passant kept", "4k3/8/8/8/3pP3/8/8/4K3 b - e3 0 1", "4k3/8/8/8/3pP3/8/8/4K3 b - e3 0 1"},
		{"counters omitted", "4k3/8/8/8/8/8/8/4K3 b -  -", "4k3/8/8/8/8/8/8/4K3 b - - 0 1"},
		{"fullmove omitted", "4k3/8/8/8/8/8/8/4K3 b - - 7", "4k3/8/8/8/8/8/8/4K3 b - - 7 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseFEN(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.FEN(); got != tc.want {
				t.Fatalf("FEN() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSetupRoundTrip(t *testing.T) {
	for _, fen := range []string{StartFEN, kiwipeteFEN, "4k3/8/8/8/3pP3/8/8/4K3 b - e3 4 61", "8/8/4k2K/1pp5/3pP1P1/pP6/P1P5/8 b - - 0 38"} {
		p, err := ParseFEN(fen)
		if err != nil {
			t.Fatal(err)
		}
		s := p.Setup()
		if got := s.FEN(); got != fen {
			t.Errorf("Setup().FEN() = %q, want %q", got, fen)
		}
		q, err := NewPosition(s)
		if err != nil || q.FEN() != fen {
			t.Errorf("NewPosition(Setup()) = %v, %v", q, err)
		}
		if p.Turn() != s.Turn || p.PieceAt(4) != s.Board[4] {
			t.Errorf("%s: Turn/PieceAt disagree with Setup", fen)
		}
	}
	var s Setup
	if _, err := NewPosition(s); err == nil {
		t.Fatal("an empty setup made a position")
	}
}

// A Position is read-only once made, so goroutines may share it (run
// under -race).
func TestPositionSharedAcrossGoroutines(t *testing.T) {
	p, err := ParseFEN(kiwipeteFEN)
	if err != nil {
		t.Fatal(err)
	}
	want := p.LegalMoves()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, m := range p.LegalMoves() {
				if _, err := p.SAN(m); err != nil {
					t.Error(err)
				}
				q, err := p.Play(m)
				if err != nil {
					t.Error(err)
					continue
				}
				_ = q.Status()
			}
			_ = p.Status()
			if _, err := p.ParseSAN("O-O"); err != nil {
				t.Error(err)
			}
			if len(p.LegalMoves()) != len(want) {
				t.Error("legal moves changed")
			}
		})
	}
	wg.Wait()
}
