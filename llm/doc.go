// Package llm defines the chat-model contract every backend implements and
// the shared message, tool-call, token and usage types.
//
// A completion carries the token ids and sampling logprobs the backend
// produced, when it has them: the weights lever trains on exactly what was
// sampled and never re-tokenizes text. Backends live in subpackages
// (llm/openai, llm/anthropic, llm/embedded); llm/llmtest is a scripted fake.
package llm
