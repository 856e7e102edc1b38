package chess

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corentings/chess/v2/uci"
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
		if q, err = q.Play(m); err != nil {
			t.Fatal(err)
		}
	}
	if q.Status() != Checkmate {
		t.Fatalf("stockfish pv %v does not mate", res.PV)
	}
}

// fakeEngine writes a shell script that plays a broken UCI engine.
func fakeEngine(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "engine")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// A broken engine gives an error, promptly: the reasons this client is
// kept over the library's uci package, whose Engine.Run takes no context
// and blocks for good on an engine that exits or stays silent.
func TestUCIEngineFailures(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the fake engines")
	}
	p, err := ParseFEN(StartFEN)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, script string
		start        bool // the handshake succeeds; Analyse fails
		timeout      time.Duration
		want         string
	}{
		{name: "exits at once", script: "exit 0\n", timeout: 10 * time.Second, want: "exited"},
		{name: "never answers", script: "exec sleep 30\n", timeout: 300 * time.Millisecond, want: "deadline"},
		{name: "dies mid-search", start: true, timeout: 10 * time.Second, want: "exited", script: `while read line; do
  case "$line" in
    uci) echo "uciok" ;;
    isready) echo "readyok" ;;
    go*) echo "info depth 1 score cp 10 pv e2e4"; exit 3 ;;
  esac
done
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			start := time.Now()
			e, err := StartUCI(ctx, fakeEngine(t, tc.script))
			if tc.start {
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close()
				_, err = e.Analyse(ctx, p, 5)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if d := time.Since(start); d > tc.timeout+5*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// TestUCIClientsAgree runs this client and the library's uci package on
// stockfish: same best move, score and line on a mate, a pawn race and a
// bishop ending.
func TestUCIClientsAgree(t *testing.T) {
	if _, err := os.Stat(DefaultStockfish); err != nil {
		t.Skipf("stockfish is not installed at %s (apt-get install stockfish): skipping", DefaultStockfish)
	}
	for _, fen := range []string{"7k/8/8/8/8/8/R7/1R4K1 w - - 0 1", "8/8/4k2K/1pp5/3pP1P1/pP6/P1P5/8 b - - 0 38", "8/7p/p7/P4p1k/1K1B1P2/6P1/p3b2P/8 b - - 7 45"} {
		p, err := ParseFEN(fen)
		if err != nil {
			t.Fatal(err)
		}
		e, err := StartUCI(t.Context(), DefaultStockfish)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := e.Analyse(t.Context(), p, 12)
		e.Close()
		if err != nil {
			t.Fatal(err)
		}
		le, err := uci.New(DefaultStockfish)
		if err != nil {
			t.Fatal(err)
		}
		err = le.Run(uci.CmdUCI, uci.CmdIsReady, uci.CmdUCINewGame, uci.CmdIsReady, uci.CmdPosition{Position: p.pos}, uci.CmdGo{Depth: 12})
		res := le.SearchResults()
		le.Close()
		if err != nil {
			t.Fatal(err)
		}
		var theirs []string
		for _, m := range res.Info.PV {
			theirs = append(theirs, m.String())
		}
		if res.BestMove.String() != ours.Best.UCI() || res.Info.Score.Mate != ours.Mate ||
			(ours.Mate == 0 && res.Info.Score.CP != ours.Score) || strings.Join(theirs, " ") != strings.Join(uciLine(ours.PV), " ") {
			t.Errorf("%s: library best %v mate %d cp %d pv %v; ours best %v mate %d score %d pv %v", fen,
				res.BestMove, res.Info.Score.Mate, res.Info.Score.CP, theirs, ours.Best, ours.Mate, ours.Score, ours.PV)
		}
	}
}

func uciLine(pv []Move) []string {
	out := make([]string, len(pv))
	for i, m := range pv {
		out[i] = m.UCI()
	}
	return out
}
