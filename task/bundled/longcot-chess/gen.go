package longcotchess

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/sia-agent/sia/chess"
	"github.com/sia-agent/sia/knight"
)

// Item is one question in LongCoT's chess_hard.json layout, with its
// answer (which the importer moves to private/answers.json).
type Item struct {
	ID      string          `json:"question_id"`
	Prompt  string          `json:"prompt"`
	Problem Problem         `json:"problem"`
	Answer  json.RawMessage `json:"answer,omitempty"`
}

// Problem names the question's template.
type Problem struct {
	Template string `json:"template"`
}

// GenOptions size a generated set.
type GenOptions struct {
	Seed int64
	// KnightItems and MoveItems count the questions of each template.
	KnightItems, MoveItems int
	// Targets per knight_path question (default 16). At most
	// knight.ExactLimit, so every answer is a proven optimum.
	Targets int
	// Prefix starts every question id (default "gen").
	Prefix string
}

// Generate makes questions with exact answers, deterministically from the
// seed:
//
//   - knight_path: a 100×100 board, a random start and Targets random
//     targets, worded exactly as LongCoT words them; the answer is the
//     Held-Karp optimum over breadth-first knight distances.
//   - best_3_moves: random positions (a king with two or three attacking
//     pieces against a king and pawns) where the side to move has exactly
//     one move that mates in two, the defender then has exactly one legal
//     reply, and exactly one move mates. The 3-ply line is therefore the
//     only best line, checked by exhaustive search, not by an engine's
//     opinion. Half are colour-flipped so Black is to move.
//
// LongCoT's real items have 30 knight targets and engine-chosen lines from
// middlegames and endgames; the generated ones are easier and are meant to
// give the loop and the tests items whose answers are beyond doubt.
func Generate(ctx context.Context, opt GenOptions) ([]Item, error) {
	if opt.Targets <= 0 {
		opt.Targets = 16
	}
	if opt.Targets > knight.ExactLimit {
		return nil, fmt.Errorf("generate: %d knight targets is above the exact limit %d", opt.Targets, knight.ExactLimit)
	}
	if opt.Prefix == "" {
		opt.Prefix = "gen"
	}
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x10c0))
	var items []Item
	for i := range opt.KnightItems {
		p := knight.Problem{N: 100, Start: knight.Square{R: rng.IntN(100), C: rng.IntN(100)}}
		seen := map[knight.Square]bool{p.Start: true}
		for len(p.Targets) < opt.Targets {
			t := knight.Square{R: rng.IntN(100), C: rng.IntN(100)}
			if !seen[t] {
				seen[t] = true
				p.Targets = append(p.Targets, t)
			}
		}
		res, err := knight.Solve(ctx, p, knight.Options{})
		if err != nil {
			return nil, fmt.Errorf("generate knight item %d: %w", i+1, err)
		}
		if !res.Exact {
			return nil, fmt.Errorf("generate knight item %d: answer not proven optimal", i+1)
		}
		ans, _ := json.Marshal(fmt.Sprint(res.Moves))
		items = append(items, Item{
			ID:      fmt.Sprintf("knight_path_%s_%d", opt.Prefix, i+1),
			Prompt:  knight.Prompt(p),
			Problem: Problem{Template: KnightPath},
			Answer:  ans,
		})
	}
	for i := range opt.MoveItems {
		pos, line, err := forcedMateInTwo(ctx, rng)
		if err != nil {
			return nil, fmt.Errorf("generate best_3_moves item %d: %w", i+1, err)
		}
		if rng.IntN(2) == 1 {
			if pos, line, err = flip(pos, line); err != nil {
				return nil, fmt.Errorf("generate best_3_moves item %d: %w", i+1, err)
			}
		}
		san, err := pos.LineSAN(line)
		if err != nil {
			return nil, fmt.Errorf("generate best_3_moves item %d: %w", i+1, err)
		}
		ans, _ := json.Marshal(san)
		items = append(items, Item{
			ID:      fmt.Sprintf("best_3_moves_%s_%d", opt.Prefix, i+1),
			Prompt:  MovesPrompt(pos.FEN()),
			Problem: Problem{Template: Best3Moves},
			Answer:  ans,
		})
	}
	return items, nil
}

// MovesPrompt words a best_3_moves question exactly as LongCoT does.
func MovesPrompt(fen string) string {
	return "You are given a chess position using this FEN: " + fen +
		"\nGive the 3 best next moves in this position using the Standard Algebraic Notation (SAN) format. Return your answer in the format: solution = [move1, move2, move3]"
}

// attackerSets are White's pieces besides the king.
var attackerSets = [][]chess.PieceType{
	{chess.Queen, chess.Rook}, {chess.Rook, chess.Rook}, {chess.Queen, chess.Knight},
	{chess.Queen, chess.Bishop}, {chess.Rook, chess.Bishop, chess.Knight}, {chess.Queen},
	{chess.Rook, chess.Knight, chess.Knight}, {chess.Queen, chess.Rook, chess.Bishop},
}

func forcedMateInTwo(ctx context.Context, rng *rand.Rand) (chess.Position, []chess.Move, error) {
	for try := 0; try < 2_000_000; try++ {
		if try&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return chess.Position{}, nil, err
			}
		}
		p, ok := randomPosition(rng)
		if !ok {
			continue
		}
		if line, ok := uniqueForcedLine(p); ok {
			return p, line, nil
		}
	}
	return chess.Position{}, nil, fmt.Errorf("no forced mate in two found")
}

func randomPosition(rng *rand.Rand) (chess.Position, bool) {
	s := chess.Setup{EP: chess.NoSquare, Fullmove: 1 + rng.IntN(60), Turn: chess.White}
	taken := map[int]bool{}
	place := func(pc chess.Piece, lo, hi int) bool {
		for range 20 {
			sq := lo + rng.IntN(hi-lo)
			if !taken[sq] {
				taken[sq] = true
				s.Board[sq] = pc
				return true
			}
		}
		return false
	}
	// The defending king sits near an edge more often than not, as in real
	// mating nets.
	bk := rng.IntN(64)
	if rng.IntN(3) > 0 {
		bk = 48 + rng.IntN(16)
	}
	taken[bk] = true
	s.Board[bk] = chess.MakePiece(chess.Black, chess.King)
	if !place(chess.MakePiece(chess.White, chess.King), 0, 64) {
		return chess.Position{}, false
	}
	for _, t := range attackerSets[rng.IntN(len(attackerSets))] {
		if !place(chess.MakePiece(chess.White, t), 0, 64) {
			return chess.Position{}, false
		}
	}
	for range rng.IntN(4) {
		if !place(chess.MakePiece(chess.Black, chess.Pawn), 8, 56) {
			return chess.Position{}, false
		}
	}
	// NewPosition validates (kings adjacent, side not to move in check …).
	q, err := chess.NewPosition(s)
	if err != nil || q.InCheck() || q.Status() != chess.Ongoing {
		return chess.Position{}, false
	}
	return q, true
}

// uniqueForcedLine returns the only line m1 r1 m2 where m1 is the one move
// that mates in two, r1 is the defender's one legal reply, and m2 is the
// one mating move; ok is false unless all three are unique and there is no
// mate in one.
func uniqueForcedLine(p chess.Position) ([]chess.Move, bool) {
	moves := p.LegalMoves()
	for _, m := range moves {
		if mates(p, m) {
			return nil, false
		}
	}
	var line []chess.Move
	for _, m1 := range moves {
		q, err := p.Play(m1)
		if err != nil {
			return nil, false
		}
		replies := q.LegalMoves()
		if len(replies) == 0 {
			continue // stalemate (mate was excluded above)
		}
		mating := true
		var only chess.Move
		for _, r := range replies {
			after, err := q.Play(r)
			if err != nil {
				return nil, false
			}
			m2s := mateMoves(after, 2)
			if len(m2s) == 0 {
				mating = false
				break
			}
			only = m2s[0]
			if len(replies) == 1 && len(m2s) != 1 {
				return nil, false // the mating move is not unique
			}
		}
		if !mating {
			continue
		}
		if line != nil || len(replies) != 1 {
			return nil, false // a second key move, or a choice of replies
		}
		line = []chess.Move{m1, replies[0], only}
	}
	return line, line != nil
}

// mates reports whether m, legal in p, mates at once. Only a checking
// move can, and the library has already marked those.
func mates(p chess.Position, m chess.Move) bool {
	if !p.GivesCheck(m) {
		return false
	}
	q, err := p.Play(m)
	return err == nil && q.Status() == chess.Checkmate
}

// mateMoves lists up to limit moves that mate at once.
func mateMoves(p chess.Position, limit int) []chess.Move {
	var out []chess.Move
	for _, m := range p.LegalMoves() {
		if mates(p, m) {
			out = append(out, m)
			if len(out) >= limit {
				break
			}
		}
	}
	return out
}

// flip mirrors the board top to bottom and swaps colours, so the same
// puzzle has Black to move.
func flip(p chess.Position, line []chess.Move) (chess.Position, []chess.Move, error) {
	s := p.Setup()
	var q chess.Setup
	for sq, pc := range s.Board {
		if pc == chess.NoPiece {
			continue
		}
		q.Board[sq^56] = chess.MakePiece(pc.Color().Other(), pc.Type())
	}
	q.Turn, q.EP, q.Fullmove, q.Halfmove = s.Turn.Other(), chess.NoSquare, s.Fullmove, s.Halfmove
	out := make([]chess.Move, len(line))
	for i, m := range line {
		out[i] = chess.Move{From: m.From ^ 56, To: m.To ^ 56, Promo: m.Promo}
	}
	fp, err := chess.NewPosition(q)
	if err != nil {
		return p, nil, fmt.Errorf("flip %s: %w", p.FEN(), err)
	}
	return fp, out, nil
}
