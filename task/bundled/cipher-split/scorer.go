package ciphersplit

import "github.com/sia-agent/sia/verify"

// Scorer judges an answer: the word in the script, compared exactly after
// trimming and lowercasing; an answer that is not one word of letters a–z
// is invalid. Details never reveal the gold answer.
type Scorer = verify.Word
