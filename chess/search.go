package chess

import (
	"context"
	"errors"
	"sort"
)

// Limits bound a search. Zero values mean "no bound" except Depth, which
// defaults to 64 (the context then decides when to stop).
type Limits struct {
	Depth int   // iterative deepening stops after this many plies
	Nodes int64 // stop once this many nodes are searched
}

// SearchResult is the outcome of the deepest completed iteration.
type SearchResult struct {
	Best  Move
	PV    []Move // principal variation, Best first
	Score int    // centipawns from the side to move's view
	// Mate is the number of moves to mate: >0 the side to move mates,
	// <0 it is mated, 0 no mate found.
	Mate  int
	Depth int
	Nodes int64
}

// ErrNoMoves is returned when the position has no legal moves.
var ErrNoMoves = errors.New("no legal moves")

const (
	mateValue = 30000
	infinity  = 32000
	maxPly    = 96
	ttSize    = 1 << 18
)

type ttEntry struct {
	key   uint64
	score int32
	move  Move
	depth int8
	flag  uint8 // 1 exact, 2 lower bound, 3 upper bound
}

type searcher[N node[N]] struct {
	ctx     context.Context
	nodes   int64
	limit   int64
	stopped bool
	tt      []ttEntry
	pv      [maxPly][maxPly]Move
	pvLen   [maxPly]int
	path    [maxPly + 1]uint64
	killers [maxPly][2]Move
}

// node is what the search needs from a position. The search's own board
// implements it; search_test.go implements it over the library's
// positions to measure what the library would cost the search.
type node[N any] interface {
	key() uint64       // Zobrist key, move counters excluded
	clock() int        // halfmove clock
	checked() bool     // the side to move is in check
	moves() []Move     // legal moves
	child(m Move) N    // the position after legal move m
	at(s Square) Piece // the piece on s
	epTarget() Square  // en-passant square, or NoSquare
	evaluation() int   // static score for the side to move
}

func (b board) key() uint64        { return b.hash() }
func (b board) clock() int         { return b.halfmove }
func (b board) checked() bool      { return b.inCheck() }
func (b board) moves() []Move      { return b.legalMoves() }
func (b board) child(m Move) board { return b.play(m) }
func (b board) at(s Square) Piece  { return b.sq[s] }
func (b board) epTarget() Square   { return b.ep }
func (b board) evaluation() int    { return evaluate(&b.sq, b.turn) }

var _ node[board] = board{}

// Search runs an iterative-deepening alpha-beta search (principal
// variation search with a transposition table, killer moves, MVV-LVA
// ordering and a capture quiescence search). It returns the deepest
// completed iteration; ctx and lim decide when to stop.
//
// The search runs on its own board (see board), copied from p.
func Search(ctx context.Context, p Position, lim Limits) (SearchResult, error) {
	return search(ctx, p.board(), lim)
}

func search[N node[N]](ctx context.Context, p N, lim Limits) (SearchResult, error) {
	root := p.moves()
	if len(root) == 0 {
		return SearchResult{}, ErrNoMoves
	}
	depth := lim.Depth
	if depth <= 0 || depth > maxPly-8 {
		depth = maxPly - 8
	}
	s := &searcher[N]{ctx: ctx, limit: lim.Nodes, tt: make([]ttEntry, ttSize)}
	var res SearchResult
	for d := 1; d <= depth; d++ {
		score := s.negamax(p, d, 0, -infinity, infinity)
		if s.stopped {
			break
		}
		res = SearchResult{Score: score, Depth: d, Nodes: s.nodes}
		res.PV = append([]Move(nil), s.pv[0][:s.pvLen[0]]...)
		if len(res.PV) > 0 {
			res.Best = res.PV[0]
		}
		if score > mateValue-maxPly {
			res.Mate = (mateValue - score + 1) / 2
		} else if score < -mateValue+maxPly {
			res.Mate = -(mateValue + score) / 2
		}
		if res.Mate != 0 && d >= 2*abs(res.Mate)+1 {
			break // a shortest forced mate is found; deeper search adds nothing
		}
	}
	if res.Depth == 0 {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		// Node limit hit before depth 1 finished: return any legal move.
		res.Best, res.PV, res.Nodes = root[0], []Move{root[0]}, s.nodes
	}
	return res, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (s *searcher[N]) poll() bool {
	s.nodes++
	if s.limit > 0 && s.nodes >= s.limit {
		s.stopped = true
	}
	if s.nodes&2047 == 0 && s.ctx.Err() != nil {
		s.stopped = true
	}
	return s.stopped
}

func (s *searcher[N]) negamax(p N, depth, ply, alpha, beta int) int {
	s.pvLen[ply] = 0
	if s.poll() {
		return 0
	}
	h := p.key()
	s.path[ply] = h
	if ply > 0 {
		if p.clock() >= 100 {
			return 0
		}
		for i := ply - 2; i >= 0 && i >= ply-p.clock(); i -= 2 {
			if s.path[i] == h {
				return 0
			}
		}
	}
	inCheck := p.checked()
	if inCheck && ply < maxPly-10 {
		depth++ // check extension
	}
	if depth <= 0 {
		return s.quiesce(p, ply, alpha, beta, 0)
	}
	if ply >= maxPly-2 {
		return p.evaluation()
	}
	e := &s.tt[h&(ttSize-1)]
	var hashMove Move
	if e.key == h {
		hashMove = e.move
		if ply > 0 && int(e.depth) >= depth {
			sc := fromTT(int(e.score), ply)
			switch {
			case e.flag == 1:
				return sc
			case e.flag == 2 && sc >= beta:
				return sc
			case e.flag == 3 && sc <= alpha:
				return sc
			}
		}
	}
	moves := p.moves()
	if len(moves) == 0 {
		if inCheck {
			return -mateValue + ply
		}
		return 0
	}
	s.order(p, moves, hashMove, ply)
	origAlpha := alpha
	best := -infinity
	var bestMove Move
	for i, m := range moves {
		q := p.child(m)
		var sc int
		if i == 0 {
			sc = -s.negamax(q, depth-1, ply+1, -beta, -alpha)
		} else {
			sc = -s.negamax(q, depth-1, ply+1, -alpha-1, -alpha)
			if sc > alpha && sc < beta && !s.stopped {
				sc = -s.negamax(q, depth-1, ply+1, -beta, -alpha)
			}
		}
		if s.stopped {
			return 0
		}
		if sc > best {
			best, bestMove = sc, m
		}
		if sc > alpha {
			alpha = sc
			s.pv[ply][0] = m
			copy(s.pv[ply][1:], s.pv[ply+1][:s.pvLen[ply+1]])
			s.pvLen[ply] = s.pvLen[ply+1] + 1
		}
		if alpha >= beta {
			if p.at(m.To) == NoPiece && s.killers[ply][0] != m {
				s.killers[ply][1], s.killers[ply][0] = s.killers[ply][0], m
			}
			break
		}
	}
	flag := uint8(1)
	switch {
	case best <= origAlpha:
		flag = 3
	case best >= beta:
		flag = 2
	}
	*e = ttEntry{key: h, score: int32(toTT(best, ply)), move: bestMove, depth: int8(depth), flag: flag}
	return best
}

// Mate scores are stored relative to the node, not the root.
func toTT(sc, ply int) int {
	switch {
	case sc > mateValue-maxPly:
		return sc + ply
	case sc < -mateValue+maxPly:
		return sc - ply
	}
	return sc
}

func fromTT(sc, ply int) int {
	switch {
	case sc > mateValue-maxPly:
		return sc - ply
	case sc < -mateValue+maxPly:
		return sc + ply
	}
	return sc
}

func (s *searcher[N]) quiesce(p N, ply, alpha, beta, qdepth int) int {
	s.pvLen[ply] = 0
	if s.poll() {
		return 0
	}
	inCheck := p.checked()
	if !inCheck {
		stand := p.evaluation()
		if stand >= beta || ply >= maxPly-2 || qdepth > 12 {
			return stand
		}
		alpha = max(alpha, stand)
	}
	moves := p.moves()
	if len(moves) == 0 {
		if inCheck {
			return -mateValue + ply
		}
		return 0
	}
	if !inCheck {
		caps := moves[:0]
		for _, m := range moves {
			if p.at(m.To) != NoPiece || m.Promo == Queen || (p.at(m.From).Type() == Pawn && m.To == p.epTarget()) {
				caps = append(caps, m)
			}
		}
		moves = caps
	}
	s.order(p, moves, Move{}, maxPly-1)
	best := alpha
	if inCheck {
		best = -infinity
	}
	for _, m := range moves {
		sc := -s.quiesce(p.child(m), ply+1, -beta, -alpha, qdepth+1)
		if s.stopped {
			return 0
		}
		if sc > best {
			best = sc
		}
		if sc > alpha {
			alpha = sc
			s.pv[ply][0] = m
			copy(s.pv[ply][1:], s.pv[ply+1][:s.pvLen[ply+1]])
			s.pvLen[ply] = s.pvLen[ply+1] + 1
		}
		if alpha >= beta {
			break
		}
	}
	return best
}

// order sorts moves: hash move, captures by MVV-LVA, promotions, killers,
// then the rest in generation order.
func (s *searcher[N]) order(p N, moves []Move, hash Move, ply int) {
	key := func(m Move) int {
		if m == hash {
			return 1 << 20
		}
		k := 0
		if v := p.at(m.To); v != NoPiece {
			k = 10000 + pieceValue[v.Type()]*10 - pieceValue[p.at(m.From).Type()]/10
		}
		if m.Promo != NoPieceType {
			k += 9000 + pieceValue[m.Promo]
		}
		if k == 0 && ply < maxPly {
			if m == s.killers[ply][0] {
				k = 5000
			} else if m == s.killers[ply][1] {
				k = 4000
			}
		}
		return k
	}
	sort.SliceStable(moves, func(i, j int) bool { return key(moves[i]) > key(moves[j]) })
}
