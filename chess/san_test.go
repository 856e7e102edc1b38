package chess

import "testing"

func TestFENRoundTrip(t *testing.T) {
	fens := []string{
		StartFEN,
		"r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1",
		"8/8/4k2K/1pp5/3pP1P1/pP6/P1P5/8 b - - 0 38",
		"rnbqkbnr/ppp1p1pp/8/3pPp2/8/8/PPPP1PPP/RNBQKBNR w KQkq f6 0 3",
	}
	for _, f := range fens {
		p, err := ParseFEN(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.FEN(); got != f {
			t.Errorf("round trip: got %q, want %q", got, f)
		}
	}
}

func TestParseFENRejects(t *testing.T) {
	bad := map[string]string{
		"too few fields":      "8/8/8/8/8/8/8/8 w",
		"seven ranks":         "8/8/8/8/8/8/8 w - - 0 1",
		"no kings":            "8/8/8/8/8/8/8/8 w - - 0 1",
		"bad piece":           "4k3/8/8/8/8/8/8/4K2X w - - 0 1",
		"long rank":           "4k3/9/8/8/8/8/8/4K3 w - - 0 1",
		"pawn on rank 1":      "4k3/8/8/8/8/8/8/P3K3 w - - 0 1",
		"bad side":            "4k3/8/8/8/8/8/8/4K3 x - - 0 1",
		"bad ep":              "4k3/8/8/8/8/8/8/4K3 w - e9 0 1",
		"opponent in check":   "4k3/8/8/8/8/8/8/4R1K1 w - - 0 1",
		"bad castling letter": "4k3/8/8/8/8/8/8/4K3 w X - 0 1",
	}
	for name, f := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseFEN(f); err == nil {
				t.Fatalf("ParseFEN(%q) accepted", f)
			}
		})
	}
}

func TestSAN(t *testing.T) {
	tests := []struct {
		name, fen, uci, san string
	}{
		{"pawn push", StartFEN, "e2e4", "e4"},
		{"knight", StartFEN, "g1f3", "Nf3"},
		{"king side castle", "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", "e1g1", "O-O"},
		{"queen side castle", "r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 0 1", "e8c8", "O-O-O"},
		{"file disambiguation", "4k3/8/8/8/8/8/4K3/R6R w - - 0 1", "a1d1", "Rad1"},
		{"rank disambiguation", "4k3/8/8/R7/8/8/8/R3K3 w - - 0 1", "a1a3", "R1a3"},
		{"full disambiguation", "k7/8/8/8/8/2Q1Q3/8/4Q1K1 w - - 0 1", "e3d2", "Qe3d2"},
		{"pawn capture", "4k3/8/8/3p4/4P3/8/8/4K3 w - - 0 1", "e4d5", "exd5"},
		{"en passant", "4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1", "e5d6", "exd6"},
		{"promotion with check", "8/P7/8/8/8/8/8/k3K3 w - - 0 1", "a7a8q", "a8=Q+"},
		{"underpromotion capture", "1r2k3/P7/8/8/8/8/8/4K3 w - - 0 1", "a7b8n", "axb8=N"},
		{"mate", "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", "a1a8", "Ra8#"},
		{"pinned knight not counted for disambiguation", "4k3/8/8/b7/8/2N3N1/8/4K3 w - - 0 1", "g3e4", "Ne4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseFEN(tc.fen)
			if err != nil {
				t.Fatal(err)
			}
			m, err := p.ParseUCI(tc.uci)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := p.SAN(m); err != nil || got != tc.san {
				t.Fatalf("SAN(%s) = %q, %v; want %q", tc.uci, got, err, tc.san)
			}
			back, err := p.ParseSAN(tc.san)
			if err != nil || back != m {
				t.Fatalf("ParseSAN(%q) = %v, %v; want %v", tc.san, back, err, m)
			}
		})
	}
}

func TestParseSANLenient(t *testing.T) {
	p, _ := ParseFEN("1r2k2r/P7/8/8/8/8/8/R3K1NR w KQk - 0 1")
	ok := map[string]string{
		"0-0-0":    "e1c1",
		"O-O-O+":   "e1c1",
		"Nf3!?":    "g1f3",
		"Ngf3":     "g1f3",
		"a8Q":      "a7a8q",
		"axb8=Q":   "a7b8q",
		"a7a8n":    "a7a8n",
		"Rxa8+":    "",
		"Nh3":      "g1h3",
		"Ra1-b1":   "",
		"Kf1":      "e1f1",
		"Rb1":      "a1b1",
		"a8=q":     "a7a8q",
		"Ne2":      "g1e2",
		"a1b1":     "a1b1",
		"g1f3":     "g1f3",
		"O-O":      "",
		"Qd1":      "",
		"e4":       "",
		"Nz9":      "",
		"":         "",
		"R1b1":     "a1b1",
		"Rab1":     "a1b1",
		"Rhf1":     "",
		"Rf1":      "",
		"Kd2":      "e1d2",
		"a8=K":     "",
		"nonsense": "",
	}
	for in, want := range ok {
		t.Run(in, func(t *testing.T) {
			m, err := p.ParseSAN(in)
			if want == "" {
				if err == nil {
					t.Fatalf("ParseSAN(%q) = %v, want an error", in, m)
				}
				return
			}
			if err != nil || m.UCI() != want {
				t.Fatalf("ParseSAN(%q) = %v, %v; want %s", in, m, err, want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		fen  string
		want Status
	}{
		{StartFEN, Ongoing},
		{"R6k/8/6K1/8/8/8/8/8 b - - 0 1", Checkmate},
		{"7k/5Q2/6K1/8/8/8/8/8 b - - 0 1", Stalemate},
		{"7k/8/6K1/8/8/8/8/6N1 b - - 0 1", InsufficientMaterial},
		{"7k/8/6K1/8/8/8/8/6R1 b - - 100 80", FiftyMoves},
		{"6bk/8/6K1/8/8/8/8/5B2 b - - 0 1", InsufficientMaterial}, // bishops on one colour
		{"6bk/8/6K1/8/8/8/8/6B1 b - - 0 1", Ongoing},              // bishops on both colours
		{"7k/8/6K1/8/8/8/8/5NN1 b - - 0 1", Ongoing},
	}
	for _, tc := range tests {
		p, err := ParseFEN(tc.fen)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Status(); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.fen, got, tc.want)
		}
	}
}

func TestGivesCheck(t *testing.T) {
	p, err := ParseFEN("4k3/8/8/8/8/8/1P6/R3K3 w Q - 0 1")
	if err != nil {
		t.Fatal(err)
	}
	for uci, want := range map[string]bool{"a1a8": true, "a1a7": false, "e1c1": false, "b2b4": false, "a1e1": false} {
		m, err := p.ParseUCI(uci)
		if uci == "a1e1" {
			if err == nil || p.GivesCheck(Move{From: 0, To: 4}) {
				t.Fatal("an illegal move gives check")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := p.GivesCheck(m); got != want {
			t.Errorf("GivesCheck(%s) = %v, want %v", uci, got, want)
		}
	}
}
