package chess

import (
	"fmt"
	"regexp"
	"strings"

	lib "github.com/corentings/chess/v2"
)

// SAN writes m, which must be legal in p, in Standard Algebraic Notation
// with "+" for check and "#" for mate (the library's writer).
func (p Position) SAN(m Move) (string, error) {
	lm, ok := p.libMove(m)
	if !ok {
		return "", fmt.Errorf("illegal move %s in %s", m.UCI(), p.FEN())
	}
	return lib.AlgebraicNotation{}.Encode(p.pos, lm), nil
}

// StripSANSuffix removes check, mate and annotation marks (+ # ! ?) from
// the end of a SAN move, as LongCoT's verifier does before comparing.
func StripSANSuffix(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), "+#!?")
}

var looseSAN = regexp.MustCompile(`^([NBRQK])?([a-h])?([1-8])?[x:]?([a-h][1-8])(?:=?([NBRQnbrq]))?$`)

// ParseSAN reads a move in SAN, leniently: check/annotation marks are
// ignored, "0-0" is castling, "=" before a promotion piece is optional and
// the piece may be lower case, over-specified origins are accepted, and
// UCI long algebraic ("e2e4", "e7e8q") works too. An ambiguous or illegal
// move is an error.
//
// The library's own SAN reader is not used: it rejects "0-0", "a8Q" and
// "a8=q", which answers to the bundled tasks hold, and it accepts an origin
// that names the wrong piece ("Nbf3" for the knight on g1). Moves are
// matched against the library's SAN of each legal move instead.
func (p Position) ParseSAN(s string) (Move, error) {
	raw := s
	s = StripSANSuffix(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, " e.p."), "e.p.")
	switch strings.ReplaceAll(s, "0", "O") {
	case "O-O", "O-O-O":
		want := 2
		if len(s) == 5 {
			want = -2
		}
		for _, m := range p.LegalMoves() {
			if p.PieceAt(m.From).Type() == King && int(m.To)-int(m.From) == want {
				return m, nil
			}
		}
		return Move{}, fmt.Errorf("move %q: castling is not legal in %s", raw, p.FEN())
	}
	for i := range p.moves {
		if StripSANSuffix(lib.AlgebraicNotation{}.Encode(p.pos, &p.moves[i])) == s {
			return fromLibMove(&p.moves[i]), nil
		}
	}
	if len(s) >= 4 && len(s) <= 5 {
		if m, ok := p.parseUCI(s); ok {
			return m, nil
		}
	}
	g := looseSAN.FindStringSubmatch(s)
	if g == nil {
		return Move{}, fmt.Errorf("move %q: not SAN", raw)
	}
	kind := Pawn
	if g[1] != "" {
		kind = PieceType(strings.IndexByte(pieceLetters, g[1][0]))
	}
	to, _ := ParseSquare(g[4])
	promo := NoPieceType
	if g[5] != "" {
		promo = PieceType(strings.IndexByte(pieceLetters, strings.ToUpper(g[5])[0]))
	}
	var found []Move
	for _, m := range p.LegalMoves() {
		if m.To != to || p.PieceAt(m.From).Type() != kind || m.Promo != promo {
			continue
		}
		if g[2] != "" && m.From.File() != int(g[2][0]-'a') {
			continue
		}
		if g[3] != "" && m.From.Rank() != int(g[3][0]-'1') {
			continue
		}
		found = append(found, m)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Move{}, fmt.Errorf("move %q is not legal in %s", raw, p.FEN())
	default:
		return Move{}, fmt.Errorf("move %q is ambiguous in %s", raw, p.FEN())
	}
}

// parseUCI matches s against the legal moves' UCI forms. (The library's
// UCI reader checks only the first square's letters, so "e2i1" reads as
// e2a2.)
func (p Position) parseUCI(s string) (Move, bool) {
	if len(s) == 5 {
		s = s[:4] + strings.ToLower(s[4:])
	}
	for _, m := range p.LegalMoves() {
		if m.UCI() == s {
			return m, true
		}
	}
	return Move{}, false
}

// ParseUCI reads a legal move in UCI form.
func (p Position) ParseUCI(s string) (Move, error) {
	if m, ok := p.parseUCI(s); ok {
		return m, nil
	}
	return Move{}, fmt.Errorf("move %q is not a legal UCI move in %s", s, p.FEN())
}

// LineSAN writes a sequence of moves from p in SAN, checking each.
func (p Position) LineSAN(moves []Move) ([]string, error) {
	out := make([]string, 0, len(moves))
	for _, m := range moves {
		san, err := p.SAN(m)
		if err != nil {
			return out, err
		}
		out = append(out, san)
		if p, err = p.Play(m); err != nil {
			return out, err
		}
	}
	return out, nil
}
