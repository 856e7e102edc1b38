package chess

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// DefaultStockfish is where Debian's stockfish package installs the engine.
const DefaultStockfish = "/usr/games/stockfish"

// UCIEngine is a running UCI engine process (e.g. stockfish). Its methods
// are safe for concurrent use; requests are serialised.
type UCIEngine struct {
	mu    sync.Mutex
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	lines chan string
	done  chan struct{}
}

// StartUCI starts the engine at path and completes the UCI handshake.
// ctx bounds the handshake and, when cancelled, ends the process.
func StartUCI(ctx context.Context, path string) (*UCIEngine, error) {
	cmd := exec.CommandContext(ctx, path)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start uci engine %q: %w", path, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start uci engine %q: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start uci engine %q: %w", path, err)
	}
	e := &UCIEngine{cmd: cmd, in: in, out: bufio.NewScanner(out), lines: make(chan string, 64), done: make(chan struct{})}
	e.out.Buffer(make([]byte, 64*1024), 1<<20)
	go func() { // owned by e: ends when the process closes stdout
		defer close(e.done)
		for e.out.Scan() {
			e.lines <- e.out.Text()
		}
		close(e.lines)
	}()
	if err := e.send("uci"); err != nil {
		e.Close()
		return nil, err
	}
	if _, err := e.waitFor(ctx, "uciok"); err != nil {
		e.Close()
		return nil, fmt.Errorf("uci engine %q handshake: %w", path, err)
	}
	if err := e.ready(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *UCIEngine) send(line string) error {
	if _, err := io.WriteString(e.in, line+"\n"); err != nil {
		// A closed pipe means the engine is gone; say so, as waitFor does
		// when it sees the same exit from the reading side.
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("uci engine exited before %q was sent: %w", line, err)
		}
		return fmt.Errorf("uci write %q: %w", line, err)
	}
	return nil
}

// waitFor reads lines until one starts with prefix; it returns the lines
// read before it and that line last.
func (e *UCIEngine) waitFor(ctx context.Context, prefix string) ([]string, error) {
	var got []string
	for {
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case l, ok := <-e.lines:
			if !ok {
				return got, fmt.Errorf("uci engine exited while waiting for %q", prefix)
			}
			got = append(got, l)
			if strings.HasPrefix(l, prefix) {
				return got, nil
			}
		}
	}
}

func (e *UCIEngine) ready(ctx context.Context) error {
	if err := e.send("isready"); err != nil {
		return err
	}
	_, err := e.waitFor(ctx, "readyok")
	return err
}

// SetOption sends "setoption name N value V".
func (e *UCIEngine) SetOption(ctx context.Context, name, value string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.send("setoption name " + name + " value " + value); err != nil {
		return err
	}
	return e.ready(ctx)
}

// Analyse searches p to the given depth and returns the engine's principal
// variation as legal moves of p's line, with its score. When ctx ends the
// engine is told to stop and its last answer is used.
func (e *UCIEngine) Analyse(ctx context.Context, p Position, depth int) (SearchResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if depth <= 0 {
		depth = 18
	}
	if err := e.send("ucinewgame"); err != nil {
		return SearchResult{}, err
	}
	if err := e.ready(ctx); err != nil {
		return SearchResult{}, err
	}
	if err := e.send("position fen " + p.FEN()); err != nil {
		return SearchResult{}, err
	}
	if err := e.send("go depth " + strconv.Itoa(depth)); err != nil {
		return SearchResult{}, err
	}
	lines, err := e.waitFor(ctx, "bestmove")
	if err != nil {
		// Stop the search and drain its bestmove so the next call starts clean.
		_ = e.send("stop")
		more, err2 := e.waitFor(context.WithoutCancel(ctx), "bestmove")
		if err2 != nil {
			return SearchResult{}, err
		}
		lines = append(lines, more...)
	}
	return parseUCIResult(p, lines)
}

// parseUCIResult turns "info … score … pv …" and "bestmove" lines into a
// SearchResult whose moves are checked against p.
func parseUCIResult(p Position, lines []string) (SearchResult, error) {
	var res SearchResult
	var pvText []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "info":
			var pv []string
			score, mate, depth, ok := 0, 0, 0, false
			for i := 1; i < len(f); i++ {
				switch f[i] {
				case "depth":
					if i+1 < len(f) {
						depth, _ = strconv.Atoi(f[i+1])
					}
				case "multipv":
					if i+1 < len(f) && f[i+1] != "1" {
						ok = false
						i = len(f)
						continue
					}
				case "score":
					if i+2 < len(f) {
						n, _ := strconv.Atoi(f[i+2])
						if f[i+1] == "cp" {
							score, ok = n, true
						} else if f[i+1] == "mate" {
							mate, ok = n, true
						}
					}
				case "pv":
					pv = f[i+1:]
					i = len(f)
				}
			}
			if ok && len(pv) > 0 {
				res.Score, res.Mate, res.Depth, pvText = score, mate, depth, pv
				if mate > 0 {
					res.Score = mateValue - (2*mate - 1)
				} else if mate < 0 {
					res.Score = -mateValue + 2*(-mate)
				}
			}
		case "bestmove":
			if len(f) < 2 || f[1] == "(none)" {
				return res, ErrNoMoves
			}
			if len(pvText) == 0 || pvText[0] != f[1] {
				pvText = []string{f[1]}
			}
		}
	}
	q := p
	for _, u := range pvText {
		m, err := q.ParseUCI(u)
		if err != nil {
			break // keep the legal prefix
		}
		res.PV = append(res.PV, m)
		if q, err = q.Play(m); err != nil {
			break // ParseUCI returned a legal move; cannot happen
		}
	}
	if len(res.PV) == 0 {
		return res, fmt.Errorf("uci engine gave no legal move for %s", p.FEN())
	}
	res.Best = res.PV[0]
	return res, nil
}

// Close ends the engine.
func (e *UCIEngine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_ = e.send("quit")
	_ = e.in.Close()
	<-e.done
	return e.cmd.Wait()
}
