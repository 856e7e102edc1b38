package ciphersplit

import (
	"embed"
	"io/fs"

	"github.com/sia-agent/sia/llm"
	"github.com/sia-agent/sia/task"
)

// Name is the task's name in the bundled registry.
const Name = "cipher-split"

//go:embed task.yaml task.md reference/harness.star
var files embed.FS

// Bundle returns the cipher-split task for the bundled registry.
func Bundle() *task.Bundle {
	return &task.Bundle{Name: Name, Files: files, Scorer: Scorer{}, Generate: Generate, Corpus: Corpus}
}

// Generate makes the task's data folder (public/, private/) from seed.
func Generate(seed int64) (fs.FS, error) { return NewWorld(seed).Files() }

// Corpus returns the embedded base model's pretraining corpus for the world
// of seed, as chats. It is never shown to a harness or an agent.
func Corpus(seed int64) [][]llm.Message { return NewWorld(seed).Corpus(CorpusOptions{}) }
