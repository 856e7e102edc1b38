package starlark

import (
	"os"
	"testing"

	"github.com/sia-agent/sia/chess"
	"github.com/sia-agent/sia/harness"
)

// Positions the table below uses: the perft suite's, the positions of the
// two best_3_moves examples in LongCoT's examples.json (their answers are
// replayed from the data file itself, in task/bundled/longcot-chess), and
// small positions for each rule.
const (
	startFEN  = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"
	kiwipete  = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"
	example1  = "8/8/4k2K/1pp5/3pP1P1/pP6/P1P5/8 b - - 0 38"
	example2  = "8/7p/p7/P4p1k/1K1B1P2/6P1/p3b2P/8 b - - 7 45"
	mateInTwo = "7k/8/8/8/8/8/R7/1R4K1 w - - 0 1"
)

// TestChessModuleTable pins the documented behaviour of the chess module
// (docs/harness.md, "chess"): every builtin, its answers and its errors.
// It was written against the module before its move generation moved to
// github.com/corentings/chess/v2 and must keep passing after.
func TestChessModuleTable(t *testing.T) {
	q := func(s string) string { return `"` + s + `"` }
	runEvalCases(t, harness.Env{}, []evalCase{
		// legal_moves: the order is not part of the contract, so sorted.
		{name: "legal start", expr: `sorted(chess.legal_moves(` + q(startFEN) + `))`,
			want: `["Na3", "Nc3", "Nf3", "Nh3", "a3", "a4", "b3", "b4", "c3", "c4", "d3", "d4", "e3", "e4", "f3", "f4", "g3", "g4", "h3", "h4"]`},
		{name: "legal castle and check", expr: `sorted(chess.legal_moves("4k3/8/8/8/8/8/8/4K2R w K - 0 1"))`,
			want: `["Kd1", "Kd2", "Ke2", "Kf1", "Kf2", "O-O", "Rf1", "Rg1", "Rh2", "Rh3", "Rh4", "Rh5", "Rh6", "Rh7", "Rh8+"]`},
		{name: "legal kiwipete", expr: `sorted(chess.legal_moves(` + q(kiwipete) + `))`,
			want: `["Bb5", "Bc1", "Bc4", "Bd1", "Bd3", "Be3", "Bf1", "Bf4", "Bg5", "Bh6", "Bxa6", "Kd1", "Kf1", "Na4", "Nb1", "Nb5", "Nc4", "Nc6", "Nd1", "Nd3", "Ng4", "Nxd7", "Nxf7", "Nxg6", "O-O", "O-O-O", "Qd3", "Qe3", "Qf4", "Qf5", "Qg3", "Qg4", "Qh5", "Qxf6", "Qxh3", "Rb1", "Rc1", "Rd1", "Rf1", "Rg1", "a3", "a4", "b3", "d6", "dxe6", "g3", "g4", "gxh3"]`},
		{name: "legal counts perft 3-6", expr: `[len(chess.legal_moves(f)) for f in ["8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1", "r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1", "rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8", "r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10"]]`,
			want: `[14, 6, 44, 46]`},
		{name: "legal en passant", expr: `sorted(chess.legal_moves("4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1"))`,
			want: `["Kd1", "Kd2", "Ke2", "Kf1", "Kf2", "e6", "exd6"]`},
		{name: "legal en passant square without a pawn to take", expr: `sorted(chess.legal_moves("4k3/8/8/4P3/8/8/8/4K3 w - d6 0 1"))`,
			want: `["Kd1", "Kd2", "Ke2", "Kf1", "Kf2", "e6"]`},
		{name: "legal promotions", expr: `sorted(chess.legal_moves("1r2k3/P7/8/8/8/8/8/4K3 w - - 0 1"))`,
			want: `["Kd1", "Kd2", "Ke2", "Kf1", "Kf2", "a8=B", "a8=N", "a8=Q", "a8=R", "axb8=B", "axb8=N", "axb8=Q+", "axb8=R+"]`},
		{name: "legal castling rights without rooks", expr: `sorted(chess.legal_moves("4k3/8/8/8/8/8/8/4K3 w KQkq - 0 1"))`,
			want: `["Kd1", "Kd2", "Ke2", "Kf1", "Kf2"]`},
		{name: "legal no castling through check", expr: `sorted(chess.legal_moves("r3k2r/8/8/8/8/8/5r2/R3K2R w KQkq - 0 1"))`,
			want: `["Kd1", "Kxf2", "O-O-O", "Ra2", "Ra3", "Ra4", "Ra5", "Ra6", "Ra7", "Rb1", "Rc1", "Rd1", "Rf1", "Rg1", "Rh2", "Rh3", "Rh4", "Rh5", "Rh6", "Rh7", "Rxa8+", "Rxh8+"]`},
		{name: "legal example 1", expr: `sorted(chess.legal_moves(` + q(example1) + `))`,
			want: `["Kd6", "Kd7", "Ke5", "Ke7", "Kf6", "Kf7", "b4", "c4", "d3"]`},
		{name: "legal example 2", expr: `sorted(chess.legal_moves(` + q(example2) + `))`,
			want: `["Bb5", "Bc4", "Bd1", "Bd3", "Bf1", "Bf3", "Bg4", "Kg4", "Kg6", "Kh6", "a1=B", "a1=N", "a1=Q", "a1=R", "h6"]`},
		{name: "legal mated", expr: `chess.legal_moves("R6k/8/6K1/8/8/8/8/8 b - - 0 1")`, want: `[]`},

		// play
		{name: "play double push sets en passant", expr: `chess.play(` + q(startFEN) + `, "e4")`,
			want: `"rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq e3 0 1"`},
		{name: "play uci", expr: `chess.play(` + q(startFEN) + `, "g1f3")`,
			want: `"rnbqkbnr/pppppppp/8/8/8/5N2/PPPPPPPP/RNBQKB1R b KQkq - 1 1"`},
		{name: "play 0-0", expr: `chess.play("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", "0-0")`,
			want: `"r3k2r/8/8/8/8/8/8/R4RK1 b kq - 1 1"`},
		{name: "play black O-O-O", expr: `chess.play("r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 3 9", "O-O-O")`,
			want: `"2kr3r/8/8/8/8/8/8/R3K2R w KQ - 4 10"`},
		{name: "play rook capture drops both rights", expr: `chess.play("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", "Rxa8+")`,
			want: `"R3k2r/8/8/8/8/8/8/4K2R b Kk - 0 1"`},
		{name: "play en passant", expr: `chess.play("4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1", "exd6")`,
			want: `"4k3/8/3P4/8/8/8/8/4K3 b - - 0 1"`},
		{name: "play underpromotion", expr: `chess.play("1r2k3/P7/8/8/8/8/8/4K3 w - - 0 1", "axb8=N")`,
			want: `"1N2k3/8/8/8/8/8/8/4K3 b - - 0 1"`},
		{name: "play promotion without =", expr: `chess.play("1r2k3/P7/8/8/8/8/8/4K3 w - - 0 1", "a8Q")`,
			want: `"Qr2k3/8/8/8/8/8/8/4K3 b - - 0 1"`},
		{name: "play fen without counters", expr: `chess.play("4k3/8/8/8/8/8/8/4K2R w K -", "Kf1")`,
			want: `"4k3/8/8/8/8/8/8/5K1R b - - 1 1"`},
		{name: "play example 1 c4", expr: `chess.play(` + q(example1) + `, "c4")`,
			want: `"8/8/4k2K/1p6/2ppP1P1/pP6/P1P5/8 w - - 0 39"`},
		{name: "play example 1 b4", expr: `chess.play(` + q(example1) + `, "b4")`,
			want: `"8/8/4k2K/2p5/1p1pP1P1/pP6/P1P5/8 w - - 0 39"`},
		{name: "play example 2 Kg4", expr: `chess.play(` + q(example2) + `, "Kg4")`,
			want: `"8/7p/p7/P4p2/1K1B1Pk1/6P1/p3b2P/8 w - - 8 46"`},

		// san
		{name: "san castle", expr: `chess.san("4k3/8/8/8/8/8/8/4K2R w K - 0 1", "e1g1")`, want: `"O-O"`},
		{name: "san promotion check", expr: `chess.san("8/P7/8/8/8/8/8/k3K3 w - - 0 1", "a7a8q")`, want: `"a8=Q+"`},
		{name: "san lower-case promotion", expr: `chess.san("8/P7/8/8/8/8/8/k3K3 w - - 0 1", "a8=q")`, want: `"a8=Q+"`},
		{name: "san mate", expr: `chess.san("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", "a1a8")`, want: `"Ra8#"`},
		{name: "san file disambiguation", expr: `chess.san("4k3/8/8/8/8/8/4K3/R6R w - - 0 1", "a1d1")`, want: `"Rad1"`},
		{name: "san rank disambiguation", expr: `chess.san("4k3/8/8/R7/8/8/8/R3K3 w - - 0 1", "a1a3")`, want: `"R1a3"`},
		{name: "san full disambiguation", expr: `chess.san("k7/8/8/8/8/2Q1Q3/8/4Q1K1 w - - 0 1", "e3d2")`, want: `"Qe3d2"`},
		{name: "san pinned knight", expr: `chess.san("4k3/8/8/b7/8/2N3N1/8/4K3 w - - 0 1", "g3e4")`, want: `"Ne4"`},
		{name: "san en passant", expr: `chess.san("4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1", "e5d6")`, want: `"exd6"`},
		{name: "san over-specified with annotation", expr: `chess.san(` + q(startFEN) + `, "Ngf3!?")`, want: `"Nf3"`},
		{name: "san long form", expr: `chess.san("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", "Ra1xa8")`, want: `"Rxa8+"`},
		{name: "san black uci", expr: `chess.san(` + q(example1) + `, "c5c4")`, want: `"c4"`},

		// status
		{name: "status", expr: `[chess.status(f) for f in ["` + startFEN + `", "R6k/8/6K1/8/8/8/8/8 b - - 0 1", "7k/5Q2/6K1/8/8/8/8/8 b - - 0 1", "7k/8/6K1/8/8/8/8/6N1 b - - 0 1", "7k/8/6K1/8/8/8/8/6R1 b - - 100 80", "7k/8/6K1/8/8/8/8/5B2 b - - 0 1", "6bk/8/6K1/8/8/8/8/6B1 b - - 0 1", "7k/8/6K1/8/8/8/8/8 w - - 0 1"]]`,
			want: `["ongoing", "checkmate", "stalemate", "insufficient_material", "fifty_moves", "insufficient_material", "ongoing", "insufficient_material"]`},
		// The library's rule also calls bishops all on one colour a draw
		// (a dead position); before the library this said "ongoing".
		{name: "status same-colour bishops", expr: `chess.status("6bk/8/6K1/8/8/8/8/5B2 b - - 0 1")`, want: `"insufficient_material"`},

		// search and best_line with the builtin engine: fixed depths give
		// fixed lines, scores and node counts.
		{name: "search mate in 2", stmts: `r = chess.search("` + mateInTwo + `", depth=5)`,
			expr: `(r.pv, r.score, r.mate, r.depth)`, want: `(["Rb7", "Kg8", "Ra8#"], 29997, 2, 5)`},
		{name: "search wins the queen", stmts: `r = chess.search("4k3/8/8/3q4/8/8/8/3RK3 w - - 0 1", depth=4)`,
			expr: `(r.pv, r.score, r.mate, r.depth, r.nodes)`, want: `(["Rxd5", "Ke7", "Kf2", "Ke6"], 488, 0, 4, 860)`},
		{name: "search kiwipete", stmts: `r = chess.search("` + kiwipete + `", depth=3)`,
			expr: `(r.pv, r.score, r.mate, r.depth, r.nodes)`, want: `(["Bxa6", "exd5", "gxh3", "Qxe5"], -17, 0, 3, 42519)`},
		{name: "search example 1", stmts: `r = chess.search("` + example1 + `", depth=5)`,
			expr: `(r.pv, r.score, r.mate, r.depth, r.nodes)`, want: `(["Ke5", "g5", "b4", "g6", "Kxe4"], -65, 0, 5, 2133)`},
		{name: "search node limit", stmts: `r = chess.search("` + kiwipete + `", nodes=5000)`,
			expr: `(len(r.pv), r.depth, r.nodes)`, want: `(1, 0, 5000)`},
		{name: "best_line mate", expr: `chess.best_line("` + mateInTwo + `", plies=3, engine="builtin", depth=5)`, want: `["Rb7", "Kg8", "Ra8#"]`},
		{name: "best_line stops at mate", expr: `chess.best_line("` + mateInTwo + `", plies=6, engine="builtin", depth=5)`, want: `["Rb7", "Kg8", "Ra8#"]`},
		{name: "best_line example 1", expr: `chess.best_line("` + example1 + `", plies=3, engine="builtin", depth=4)`, want: `["Ke5", "g5", "b4"]`},
		{name: "best_line example 2", expr: `chess.best_line("` + example2 + `", plies=3, engine="builtin", depth=4)`, want: `["Bf3", "h4", "Kg4"]`},
		{name: "best_line mate in 1", expr: `chess.best_line("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", plies=5, engine="builtin", depth=3)`, want: `["Ra8#"]`},
		{name: "best_line game over", expr: `chess.best_line("R6k/8/6K1/8/8/8/8/8 b - - 0 1", plies=3, engine="builtin")`, want: `[]`},
		{name: "has_stockfish", expr: `chess.has_stockfish()`, want: pyBool(fileExists(chess.DefaultStockfish))},

		// errors
		{name: "bad fen", expr: `chess.legal_moves("not a fen")`, wantErr: "chess.legal_moves"},
		{name: "no kings", expr: `chess.legal_moves("8/8/8/8/8/8/8/8 w - - 0 1")`, wantErr: "king"},
		{name: "side not to move in check", expr: `chess.legal_moves("4k3/8/8/8/8/8/8/4R1K1 w - - 0 1")`, wantErr: "not to move is in check"},
		{name: "pawn on rank 1", expr: `chess.legal_moves("4k3/8/8/8/8/8/8/P3K3 w - - 0 1")`, wantErr: "pawn on rank 1"},
		{name: "illegal", expr: `chess.play("4k3/8/8/8/8/8/8/4K3 w - - 0 1", "Qd1")`, wantErr: "not legal"},
		{name: "ambiguous", expr: `chess.play("4k3/8/8/8/8/8/4K3/R6R w - - 0 1", "Rd1")`, wantErr: "ambiguous"},
		{name: "not san", expr: `chess.play("4k3/8/8/8/8/8/8/4K3 w - - 0 1", "nonsense")`, wantErr: "not SAN"},
		{name: "illegal uci", expr: `chess.play("4k3/8/8/8/8/8/8/4K3 w - - 0 1", "e1e3")`, wantErr: "not legal"},
		{name: "castling without rights", expr: `chess.san("4k3/8/8/8/8/8/8/4K3 w KQ - 0 1", "O-O")`, wantErr: "castling is not legal"},
		{name: "bad engine", expr: `chess.search("4k3/8/8/8/8/8/8/4K3 w - - 0 1", depth=1, engine="gnuchess")`, wantErr: "want auto, builtin or stockfish"},
		{name: "search without moves", expr: `chess.search("R6k/8/6K1/8/8/8/8/8 b - - 0 1", depth=1)`, wantErr: "no legal moves"},
		{name: "plies out of range", expr: `chess.best_line("4k3/8/8/8/8/8/8/4K3 w - - 0 1", plies=0)`, wantErr: "plies=0 must be in [1, 40]"},
	})
}

// TestChessModuleStockfish pins the stockfish engine's answers through the
// module; it needs /usr/games/stockfish.
func TestChessModuleStockfish(t *testing.T) {
	if !fileExists(chess.DefaultStockfish) {
		t.Skipf("stockfish is not installed at %s (apt-get install stockfish): skipping", chess.DefaultStockfish)
	}
	runEvalCases(t, harness.Env{}, []evalCase{
		{name: "stockfish mate in 2", stmts: `r = chess.search("` + mateInTwo + `", depth=10, engine="stockfish")`,
			expr: `(r.pv[:3], r.mate, r.score)`, want: `(["Ra7", "Kg8", "Rb8#"], 2, 29997)`},
		{name: "auto picks stockfish", expr: `chess.best_line("` + mateInTwo + `", plies=3, depth=10)`, want: `["Ra7", "Kg8", "Rb8#"]`},
	})
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
