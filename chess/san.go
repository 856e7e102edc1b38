package chess

import (
	"fmt"
	"regexp"
	"strings"
)

// SAN writes m (legal in p) in Standard Algebraic Notation, with "+" for
// check and "#" for mate.
func (p Position) SAN(m Move) string {
	return p.sanBody(m, p.LegalMoves()) + p.sanSuffix(m)
}

func (p Position) sanSuffix(m Move) string {
	q := p.play(m)
	if !q.InCheck() {
		return ""
	}
	if len(q.LegalMoves()) == 0 {
		return "#"
	}
	return "+"
}

func (p Position) sanBody(m Move, legal []Move) string {
	pc := p.Board[m.From]
	if pc.Type() == King {
		switch int(m.To) - int(m.From) {
		case 2:
			return "O-O"
		case -2:
			return "O-O-O"
		}
	}
	capture := p.Board[m.To] != NoPiece || (pc.Type() == Pawn && m.From.File() != m.To.File())
	var b strings.Builder
	if pc.Type() == Pawn {
		if capture {
			b.WriteByte(byte('a' + m.From.File()))
		}
	} else {
		b.WriteByte(pieceLetters[pc.Type()])
		sameFile, sameRank, ambiguous := false, false, false
		for _, o := range legal {
			if o.To != m.To || o.From == m.From || p.Board[o.From] != pc {
				continue
			}
			ambiguous = true
			if o.From.File() == m.From.File() {
				sameFile = true
			}
			if o.From.Rank() == m.From.Rank() {
				sameRank = true
			}
		}
		if ambiguous {
			switch {
			case !sameFile:
				b.WriteByte(byte('a' + m.From.File()))
			case !sameRank:
				b.WriteByte(byte('1' + m.From.Rank()))
			default:
				b.WriteString(m.From.String())
			}
		}
	}
	if capture {
		b.WriteByte('x')
	}
	b.WriteString(m.To.String())
	if m.Promo != NoPieceType {
		b.WriteByte('=')
		b.WriteByte(pieceLetters[m.Promo])
	}
	return b.String()
}

// StripSANSuffix removes check, mate and annotation marks (+ # ! ?) from
// the end of a SAN move, as LongCoT's verifier does before comparing.
func StripSANSuffix(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), "+#!?")
}

var looseSAN = regexp.MustCompile(`^([NBRQK])?([a-h])?([1-8])?[x:]?([a-h][1-8])(?:=?([NBRQnbrq]))?$`)

// ParseSAN reads a move in SAN, leniently: check/annotation marks are
// ignored, "0-0" is castling, "=" before a promotion piece is optional,
// over-specified origins are accepted, and UCI long algebraic ("e2e4",
// "e7e8q") works too. An ambiguous or illegal move is an error.
func (p Position) ParseSAN(s string) (Move, error) {
	raw := s
	s = StripSANSuffix(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, " e.p."), "e.p.")
	legal := p.LegalMoves()
	switch strings.ReplaceAll(s, "0", "O") {
	case "O-O", "O-O-O":
		want := 2
		if len(s) == 5 {
			want = -2
		}
		for _, m := range legal {
			if p.Board[m.From].Type() == King && int(m.To)-int(m.From) == want {
				return m, nil
			}
		}
		return Move{}, fmt.Errorf("move %q: castling is not legal in %s", raw, p.FEN())
	}
	for _, m := range legal {
		if p.sanBody(m, legal) == s {
			return m, nil
		}
	}
	if len(s) >= 4 && len(s) <= 5 {
		if m, ok := p.parseUCI(s, legal); ok {
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
	for _, m := range legal {
		if m.To != to || p.Board[m.From].Type() != kind || m.Promo != promo {
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

func (p Position) parseUCI(s string, legal []Move) (Move, bool) {
	from, err1 := ParseSquare(s[0:2])
	to, err2 := ParseSquare(s[2:4])
	if err1 != nil || err2 != nil {
		return Move{}, false
	}
	promo := NoPieceType
	if len(s) == 5 {
		i := strings.IndexByte(pieceLetters, strings.ToUpper(s[4:])[0])
		if i < int(Knight) || i > int(Queen) {
			return Move{}, false
		}
		promo = PieceType(i)
	}
	m := Move{From: from, To: to, Promo: promo}
	for _, l := range legal {
		if l == m {
			return m, true
		}
	}
	return Move{}, false
}

// ParseUCI reads a legal move in UCI form.
func (p Position) ParseUCI(s string) (Move, error) {
	if len(s) >= 4 && len(s) <= 5 {
		if m, ok := p.parseUCI(s, p.LegalMoves()); ok {
			return m, nil
		}
	}
	return Move{}, fmt.Errorf("move %q is not a legal UCI move in %s", s, p.FEN())
}

// LineSAN writes a sequence of moves from p in SAN, checking each.
func (p Position) LineSAN(moves []Move) ([]string, error) {
	out := make([]string, 0, len(moves))
	for _, m := range moves {
		if !p.IsLegal(m) {
			return out, fmt.Errorf("illegal move %s in %s", m.UCI(), p.FEN())
		}
		out = append(out, p.SAN(m))
		p = p.play(m)
	}
	return out, nil
}
