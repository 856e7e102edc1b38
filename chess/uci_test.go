package chess

import (
	"os"
	"testing"
)

func TestParseUCIResult(t *testing.T) {
	p, _ := ParseFEN("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1")
	lines := []string{
		"info depth 1 seldepth 1 multipv 1 score cp 500 nodes 20 pv a1a2",
		"info depth 2 seldepth 2 multipv 1 score mate 1 nodes 60 pv a1a8",
		"bestmove a1a8",
	}
	res, err := parseUCIResult(p, lines)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best.UCI() != "a1a8" || res.Mate != 1 || res.Depth != 2 {
		t.Fatalf("got %+v", res)
	}
	// An illegal tail is cut, a missing bestmove move is an error.
	res, err = parseUCIResult(p, []string{"info depth 3 score cp 10 pv a1a2 zzzz", "bestmove a1a2"})
	if err != nil || len(res.PV) != 1 {
		t.Fatalf("legal prefix: %+v %v", res, err)
	}
	if _, err := parseUCIResult(p, []string{"bestmove (none)"}); err != ErrNoMoves {
		t.Fatalf("err = %v, want ErrNoMoves", err)
	}
}

func TestStockfish(t *testing.T) {
	if _, err := os.Stat(DefaultStockfish); err != nil {
		t.Skipf("stockfish is not installed at %s (apt-get install stockfish): skipping the UCI client test", DefaultStockfish)
	}
	e, err := StartUCI(t.Context(), DefaultStockfish)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p, _ := ParseFEN("7k/8/8/8/8/8/R7/1R4K1 w - - 0 1")
	res, err := e.Analyse(t.Context(), p, 10)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mate != 2 || len(res.PV) < 3 {
		t.Fatalf("stockfish: %+v, want mate in 2", res)
	}
	q := p
	for _, m := range res.PV {
		q = q.Play(m)
	}
	if q.Status() != Checkmate {
		t.Fatalf("stockfish pv %v does not mate", res.PV)
	}
}
