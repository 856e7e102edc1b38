package tinylm

// embed.go: token + learned position embeddings, forward and backward.

// embedForward sets x[M,d] row r = tok[tokens[r]] + pos[positions[r]].
func embedForward(x []float32, tok, pos *tensor, tokens, positions []int, d int) {
	for r, id := range tokens {
		p := positions[r]
		row := x[r*d : r*d+d]
		te := tok.w[id*d : id*d+d]
		pe := pos.w[p*d : p*d+d]
		for j := range row {
			row[j] = te[j] + pe[j]
		}
	}
}

// embedBackward adds dx's rows to the embedding gradients (full training).
func embedBackward(dx []float32, tok, pos *tensor, tokens, positions []int, d int) {
	if tok.g == nil {
		return
	}
	for r, id := range tokens {
		p := positions[r]
		g := dx[r*d : r*d+d]
		addTo(tok.g[id*d:id*d+d], g)
		addTo(pos.g[p*d:p*d+d], g)
	}
}
