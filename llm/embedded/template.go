package embedded

import (
	"fmt"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/tinylm"
)

// EncodeChat renders msgs with the chat template (see the package doc).
// With generation set it appends the <|assistant|> token that asks the
// model for the next assistant turn.
func EncodeChat(msgs []llm.Message, generation bool) ([]int, error) {
	tok := tinylm.NewTokenizer()
	ids := []int{tok.BOS()}
	for i, m := range msgs {
		role, err := tok.RoleToken(m.Role)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		ids = append(ids, role)
		ids = append(ids, tok.Encode(m.Content)...)
		ids = append(ids, tok.EndOfTurn())
	}
	if generation {
		ids = append(ids, tinylm.TokAssistant)
	}
	return ids, nil
}

// EncodeCorpus renders complete chats (each ending with the turn to learn,
// usually the assistant's) as pretraining sequences.
func EncodeCorpus(docs [][]llm.Message) ([][]int, error) {
	out := make([][]int, 0, len(docs))
	for i, d := range docs {
		ids, err := EncodeChat(d, false)
		if err != nil {
			return nil, fmt.Errorf("corpus document %d: %w", i, err)
		}
		out = append(out, ids)
	}
	return out, nil
}
