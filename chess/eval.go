package chess

// Evaluation: material plus small piece-square terms, from the side to
// move's point of view, in centipawns. It is deliberately simple; the
// engine's strength comes from search depth on the small endgames and
// tactics the bundled tasks hold. The library has no evaluation.

var pieceValue = [7]int{0, 100, 320, 330, 500, 900, 0}

// centre[s] is 0 on the rim … 3 in the four centre squares.
var centre = func() (c [64]int) {
	for s := range 64 {
		f, r := s&7, s>>3
		df := min(f, 7-f)
		dr := min(r, 7-r)
		c[s] = min(df, dr)
	}
	return
}()

// Evaluate scores p for the side to move.
func Evaluate(p Position) int {
	b := p.board()
	return evaluate(&b.sq, b.turn)
}

// evaluate scores the squares sq for the side turn.
func evaluate(sq *[64]Piece, turn Color) int {
	var score [2]int
	nonPawn := 0
	for _, pc := range sq {
		if t := pc.Type(); t >= Knight && t <= Queen {
			nonPawn += pieceValue[t]
		}
	}
	endgame := nonPawn <= 1600
	for i, pc := range sq {
		if pc == NoPiece {
			continue
		}
		c, s := pc.Color(), Square(i)
		v := pieceValue[pc.Type()]
		rel := s.Rank() // rank from the owner's side
		if c == Black {
			rel = 7 - rel
		}
		switch pc.Type() {
		case Pawn:
			adv := rel - 1
			if endgame {
				v += adv * adv * 4
			} else {
				v += adv * 5
				if s.File() >= 2 && s.File() <= 5 {
					v += adv * 3
				}
			}
			if passed(sq, s, c) {
				v += 10 + rel*rel*3
				if endgame {
					v += rel * rel * 4
				}
			}
		case Knight:
			v += centre[i] * 10
		case Bishop:
			v += centre[i] * 5
		case Rook:
			if rel == 6 {
				v += 15
			}
		case Queen:
			v += centre[i] * 2
		case King:
			if endgame {
				v += centre[i] * 12
			} else {
				v -= centre[i] * 10
				if rel == 0 {
					v += 10
				}
			}
		}
		score[c] += v
	}
	return score[turn] - score[turn.Other()]
}

// passed reports whether the pawn on s has no enemy pawn ahead of it on
// its own or an adjacent file.
func passed(sq *[64]Piece, s Square, c Color) bool {
	enemy := MakePiece(c.Other(), Pawn)
	dir := 1
	if c == Black {
		dir = -1
	}
	for r := s.Rank() + dir; r >= 0 && r <= 7; r += dir {
		for f := max(0, s.File()-1); f <= min(7, s.File()+1); f++ {
			if sq[r*8+f] == enemy {
				return false
			}
		}
	}
	return true
}
