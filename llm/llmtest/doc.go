// Package llmtest is a dependency-free scripted fake of llm.Model for tests.
// It is safe for concurrent use and records every request.
package llmtest
