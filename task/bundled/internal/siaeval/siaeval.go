package siaeval

import (
	"bytes"
	_ "embed"
)

//go:embed prelude.py
var prelude []byte

// Script returns a task's whole evaluate.py: the prelude, then the task's
// part, which must define main().
func Script(taskPart []byte) []byte {
	var b bytes.Buffer
	b.Write(prelude)
	b.WriteString("\n\n# ---- the task's scoring ----\n\n")
	b.Write(bytes.TrimSpace(taskPart))
	b.WriteString("\n\n\nif __name__ == \"__main__\":\n    main()\n")
	return b.Bytes()
}
