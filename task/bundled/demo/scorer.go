package demo

import "github.com/sia-agent/sia/verify"

// Scorer judges an answer: the whole word, compared exactly after trimming
// and lowercasing; an answer that is not one word of letters a–z is
// invalid. Details never reveal the gold word beyond its length, which the
// public pattern already shows.
type Scorer = verify.Word
