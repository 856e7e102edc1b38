package knight

import (
	"fmt"
	"regexp"
	"strconv"
)

var (
	sizeRe  = regexp.MustCompile(`(\d+)\s*[xX×]\s*(\d+)`)
	startRe = regexp.MustCompile(`(?i)Starting\s+Pos\w*:\s*\((\d+)\s*,\s*(\d+)\)`)
	tgtRe   = regexp.MustCompile(`(?is)Target\s+Squares:\s*\[(.*?)\]`)
	pairRe  = regexp.MustCompile(`\((\d+)\s*,\s*(\d+)\)`)
)

// ParsePrompt reads a LongCoT knight_path prompt ("chess board of size
// 100x100 … Starting Postion: (51, 43) Target Squares: [(64, 27), …]").
// LongCoT's own spelling "Postion" is accepted along with "Position".
func ParsePrompt(prompt string) (Problem, error) {
	var p Problem
	sm := sizeRe.FindStringSubmatch(prompt)
	if sm == nil || sm[1] != sm[2] {
		return p, fmt.Errorf("knight prompt: no square board size like 100x100")
	}
	p.N, _ = strconv.Atoi(sm[1])
	st := startRe.FindStringSubmatch(prompt)
	if st == nil {
		return p, fmt.Errorf("knight prompt: no starting position")
	}
	p.Start.R, _ = strconv.Atoi(st[1])
	p.Start.C, _ = strconv.Atoi(st[2])
	tg := tgtRe.FindStringSubmatch(prompt)
	if tg == nil {
		return p, fmt.Errorf("knight prompt: no target squares")
	}
	for _, m := range pairRe.FindAllStringSubmatch(tg[1], -1) {
		r, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[2])
		p.Targets = append(p.Targets, Square{r, c})
	}
	if len(p.Targets) == 0 {
		return p, fmt.Errorf("knight prompt: target list is empty")
	}
	return p, p.Validate()
}

// Prompt writes p in LongCoT's knight_path wording (its "Postion" typo
// included, so generated items read exactly like the benchmark's).
func Prompt(p Problem) string {
	s := fmt.Sprintf("There is a chess board of size %dx%d and certain target squares. Calculate the minimum number of moves it takes for the knight at the given starting position to touch all the target squares. Both target squares and the starting position is given in a 0-indexed format:\n\nStarting Postion: (%d, %d)\nTarget Squares: [", p.N, p.N, p.Start.R, p.Start.C)
	for i, t := range p.Targets {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("(%d, %d)", t.R, t.C)
	}
	return s + "]\n\nReturn your answer in the format: solution = <integer>"
}
