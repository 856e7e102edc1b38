package starlark

import (
	"errors"
	"fmt"
	"os"

	sl "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/sia-agent/sia/chess"
	"github.com/sia-agent/sia/knight"
)

// chessModule is the stdlib `chess` module: positions as FEN strings, moves
// in SAN (UCI accepted on input), an alpha-beta search or stockfish when it
// is installed, and the knight-tour helpers of LongCoT's knight_path.
func chessModule(*moduleEnv) (sl.Value, error) {
	return &starlarkstruct.Module{Name: "chess", Members: sl.StringDict{
		"legal_moves":      sl.NewBuiltin("chess.legal_moves", chessLegalMoves),
		"play":             sl.NewBuiltin("chess.play", chessPlay),
		"san":              sl.NewBuiltin("chess.san", chessSAN),
		"status":           sl.NewBuiltin("chess.status", chessStatus),
		"search":           sl.NewBuiltin("chess.search", chessSearch),
		"best_line":        sl.NewBuiltin("chess.best_line", chessBestLine),
		"has_stockfish":    sl.NewBuiltin("chess.has_stockfish", chessHasStockfish),
		"knight_parse":     sl.NewBuiltin("chess.knight_parse", knightParse),
		"knight_distances": sl.NewBuiltin("chess.knight_distances", knightDistances),
		"knight_tour":      sl.NewBuiltin("chess.knight_tour", knightTour),
	}}, nil
}

// defaultSearchNodes bounds the builtin search when no depth is given, so a
// call stays within a few seconds on one core.
const defaultSearchNodes = 1_500_000

func fenArg(b *sl.Builtin, fen string) (chess.Position, error) {
	p, err := chess.ParseFEN(fen)
	if err != nil {
		return p, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return p, nil
}

// fenMoveArgs reads the (fen, move) arguments: a position and a legal move
// of it in SAN.
func fenMoveArgs(b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (chess.Position, chess.Move, error) {
	var fen, move string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fen, &move); err != nil {
		return chess.Position{}, chess.Move{}, err
	}
	p, err := fenArg(b, fen)
	if err != nil {
		return p, chess.Move{}, err
	}
	m, err := p.ParseSAN(move)
	if err != nil {
		return p, m, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return p, m, nil
}

func chessLegalMoves(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var fen string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fen); err != nil {
		return nil, err
	}
	p, err := fenArg(b, fen)
	if err != nil {
		return nil, err
	}
	moves := p.LegalMoves()
	out := make([]string, len(moves))
	for i, m := range moves {
		if out[i], err = p.SAN(m); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	return stringsToList(out), nil
}

func chessPlay(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	p, m, err := fenMoveArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	q, err := p.Play(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return sl.String(q.FEN()), nil
}

func chessSAN(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	p, m, err := fenMoveArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	san, err := p.SAN(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return sl.String(san), nil
}

var statusNames = map[chess.Status]string{chess.Ongoing: "ongoing", chess.Checkmate: "checkmate",
	chess.Stalemate: "stalemate", chess.FiftyMoves: "fifty_moves", chess.InsufficientMaterial: "insufficient_material"}

func chessStatus(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var fen string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fen); err != nil {
		return nil, err
	}
	p, err := fenArg(b, fen)
	if err != nil {
		return nil, err
	}
	return sl.String(statusNames[p.Status()]), nil
}

func chessHasStockfish(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	_, err := os.Stat(chess.DefaultStockfish)
	return sl.Bool(err == nil), nil
}

// analyse runs the chosen engine: "builtin", "stockfish", or "auto"
// (stockfish when installed, else builtin).
func analyse(thread *sl.Thread, b *sl.Builtin, p chess.Position, engine string, depth, nodes int) (chess.SearchResult, error) {
	ctx := stateOf(thread).ctx
	if engine == "auto" {
		engine = "builtin"
		if _, err := os.Stat(chess.DefaultStockfish); err == nil {
			engine = "stockfish"
		}
	}
	switch engine {
	case "stockfish":
		e, err := chess.StartUCI(ctx, chess.DefaultStockfish)
		if err != nil {
			return chess.SearchResult{}, fmt.Errorf("%s: %w (is stockfish installed? apt-get install stockfish)", b.Name(), err)
		}
		defer e.Close()
		res, err := e.Analyse(ctx, p, depth)
		if err != nil {
			return res, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return res, nil
	case "builtin":
		lim := chess.Limits{Depth: depth, Nodes: int64(nodes)}
		if depth <= 0 && nodes <= 0 {
			lim.Nodes = defaultSearchNodes
		}
		res, err := chess.Search(ctx, p, lim)
		if err != nil {
			return res, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return res, nil
	}
	return chess.SearchResult{}, fmt.Errorf("%s: engine %q: want auto, builtin or stockfish", b.Name(), engine)
}

func chessSearch(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var fen string
	depth, nodes, engine := 0, 0, "builtin"
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "fen", &fen, "depth?", &depth, "nodes?", &nodes, "engine?", &engine); err != nil {
		return nil, err
	}
	p, err := fenArg(b, fen)
	if err != nil {
		return nil, err
	}
	res, err := analyse(thread, b, p, engine, depth, nodes)
	if err != nil {
		return nil, err
	}
	pv, _ := p.LineSAN(res.PV)
	return starlarkstruct.FromStringDict(sl.String("search_result"), sl.StringDict{
		"pv":    stringsToList(pv),
		"score": sl.MakeInt(res.Score),
		"mate":  sl.MakeInt(res.Mate),
		"depth": sl.MakeInt(res.Depth),
		"nodes": sl.MakeInt64(res.Nodes),
	}), nil
}

// chessBestLine returns the engine's principal variation, `plies` long:
// when the search's line is shorter (a transposition cut it), the line is
// extended by searching the position it reaches. A line ends early only at
// mate or another finished game.
func chessBestLine(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var fen string
	plies, depth, nodes, engine := 3, 0, 0, "auto"
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "fen", &fen, "plies?", &plies, "depth?", &depth, "nodes?", &nodes, "engine?", &engine); err != nil {
		return nil, err
	}
	if plies < 1 || plies > 40 {
		return nil, fmt.Errorf("%s: plies=%d must be in [1, 40]", b.Name(), plies)
	}
	p, err := fenArg(b, fen)
	if err != nil {
		return nil, err
	}
	var line []string
	for len(line) < plies {
		res, err := analyse(thread, b, p, engine, depth, nodes)
		if errors.Is(err, chess.ErrNoMoves) {
			break
		}
		if err != nil {
			return nil, err
		}
		for _, m := range res.PV {
			if len(line) == plies {
				break
			}
			san, err := p.SAN(m)
			if err != nil {
				return nil, fmt.Errorf("%s: engine line: %w", b.Name(), err)
			}
			line = append(line, san)
			if p, err = p.Play(m); err != nil {
				return nil, fmt.Errorf("%s: engine line: %w", b.Name(), err)
			}
		}
		if p.Status() != chess.Ongoing {
			break
		}
	}
	return stringsToList(line), nil
}

// --- knight_path helpers ---

func squareTuple(s knight.Square) sl.Tuple { return sl.Tuple{sl.MakeInt(s.R), sl.MakeInt(s.C)} }

func squareArg(name string, v sl.Value) (knight.Square, error) {
	it, ok := v.(sl.Indexable)
	if !ok || it.Len() != 2 {
		return knight.Square{}, fmt.Errorf("%s: want a (row, col) pair, got %s", name, v.Type())
	}
	var rc [2]int
	for i := range 2 {
		if err := sl.AsInt(it.Index(i), &rc[i]); err != nil {
			return knight.Square{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	return knight.Square{R: rc[0], C: rc[1]}, nil
}

func knightArgs(b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (knight.Problem, error) {
	var n int
	var startV, targetsV sl.Value
	if err := sl.UnpackArgs(b.Name(), args, kwargs, "n", &n, "start", &startV, "targets", &targetsV); err != nil {
		return knight.Problem{}, err
	}
	p := knight.Problem{N: n}
	var err error
	if p.Start, err = squareArg(b.Name()+" start", startV); err != nil {
		return p, err
	}
	it, ok := targetsV.(sl.Iterable)
	if !ok {
		return p, fmt.Errorf("%s: targets must be a list of (row, col) pairs", b.Name())
	}
	iter := it.Iterate()
	defer iter.Done()
	var v sl.Value
	for iter.Next(&v) {
		s, err := squareArg(b.Name()+" target", v)
		if err != nil {
			return p, err
		}
		p.Targets = append(p.Targets, s)
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return p, nil
}

func knightParse(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var prompt string
	if err := sl.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &prompt); err != nil {
		return nil, err
	}
	p, err := knight.ParsePrompt(prompt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	ts := make([]sl.Value, len(p.Targets))
	for i, t := range p.Targets {
		ts[i] = squareTuple(t)
	}
	return starlarkstruct.FromStringDict(sl.String("knight_problem"), sl.StringDict{
		"n": sl.MakeInt(p.N), "start": squareTuple(p.Start), "targets": sl.NewList(ts),
	}), nil
}

// knightDistances returns the knight-distance matrix over [start] + targets.
func knightDistances(_ *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	p, err := knightArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	m, err := knight.Matrix(p.N, append([]knight.Square{p.Start}, p.Targets...))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	rows := make([]sl.Value, len(m))
	for i, r := range m {
		cells := make([]sl.Value, len(r))
		for j, d := range r {
			cells[j] = sl.MakeInt(d)
		}
		rows[i] = sl.NewList(cells)
	}
	return sl.NewList(rows), nil
}

func knightTour(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	p, err := knightArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	res, err := knight.Solve(stateOf(thread).ctx, p, knight.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	order := make([]sl.Value, len(res.Order))
	for i, s := range res.Order {
		order[i] = squareTuple(s)
	}
	return starlarkstruct.FromStringDict(sl.String("knight_tour"), sl.StringDict{
		"moves": sl.MakeInt(res.Moves), "order": sl.NewList(order), "exact": sl.Bool(res.Exact),
	}), nil
}
