// Package agent defines the Meta-Agent and Feedback-Agent roles. The
// builtin (offline, deterministic) agents live in agent/builtin and the LLM
// tool-use agents in agent/llmagent.
package agent
