package tinylm

import (
	"fmt"
	"strings"
)

// Token ids of the byte-level tokenizer: ids 0..255 are the bytes of the
// UTF-8 text, the special tokens follow.
const (
	TokBOS       = 256 // beginning of sequence
	TokEOS       = 257 // end of sequence
	TokSystem    = 258 // start of a system turn
	TokUser      = 259 // start of a user turn
	TokAssistant = 260 // start of an assistant turn
	TokTool      = 261 // start of a tool-result turn
	TokEndTurn   = 262 // end of a turn
	TokPad       = 263 // padding; never trained on

	// TokenizerVocab is the tokenizer's vocabulary size.
	TokenizerVocab = 264
)

var specialNames = [...]string{
	TokBOS - 256:       "<|bos|>",
	TokEOS - 256:       "<|eos|>",
	TokSystem - 256:    "<|system|>",
	TokUser - 256:      "<|user|>",
	TokAssistant - 256: "<|assistant|>",
	TokTool - 256:      "<|tool|>",
	TokEndTurn - 256:   "<|end|>",
	TokPad - 256:       "<|pad|>",
}

// Tokenizer is the byte-level tokenizer. It is stateless and safe for
// concurrent use.
type Tokenizer struct{}

// NewTokenizer returns the byte-level tokenizer.
func NewTokenizer() *Tokenizer { return &Tokenizer{} }

// Encode returns the bytes of s as token ids. It never emits special tokens,
// so text that looks like "<|user|>" stays text.
func (t *Tokenizer) Encode(s string) []int {
	ids := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		ids[i] = int(s[i])
	}
	return ids
}

// Decode returns the text of the byte tokens in ids; special and
// out-of-range ids are skipped. Decode(Encode(s)) == s for every s.
func (t *Tokenizer) Decode(ids []int) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < 256 {
			b = append(b, byte(id))
		}
	}
	return string(b)
}

// TokenText renders one token for display: its byte (possibly a fragment of
// a UTF-8 sequence) or the special token's marker such as "<|user|>".
func (t *Tokenizer) TokenText(id int) string {
	switch {
	case id >= 0 && id < 256:
		return string([]byte{byte(id)})
	case id >= 256 && id < TokenizerVocab:
		return specialNames[id-256]
	default:
		return fmt.Sprintf("<|%d|>", id)
	}
}

// BOS returns the beginning-of-sequence id.
func (t *Tokenizer) BOS() int { return TokBOS }

// EOS returns the end-of-sequence id.
func (t *Tokenizer) EOS() int { return TokEOS }

// EndOfTurn returns the end-of-turn id.
func (t *Tokenizer) EndOfTurn() int { return TokEndTurn }

// Pad returns the padding id.
func (t *Tokenizer) Pad() int { return TokPad }

// Vocab returns the vocabulary size (bytes plus special tokens).
func (t *Tokenizer) Vocab() int { return TokenizerVocab }

// IsSpecial reports whether id is a special token.
func (t *Tokenizer) IsSpecial(id int) bool { return id >= 256 && id < TokenizerVocab }

// RoleToken returns the marker that opens a turn of role ("system", "user",
// "assistant" or "tool", the llm package's role names).
func (t *Tokenizer) RoleToken(role string) (int, error) {
	switch strings.ToLower(role) {
	case "system":
		return TokSystem, nil
	case "user":
		return TokUser, nil
	case "assistant":
		return TokAssistant, nil
	case "tool":
		return TokTool, nil
	}
	return 0, fmt.Errorf("unknown chat role %q (want system, user, assistant or tool)", role)
}
