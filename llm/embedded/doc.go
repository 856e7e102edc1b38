// Package embedded serves the in-process tinylm transformer as an
// llm.Model: the offline default task model. It renders chats with a fixed
// chat template, samples with the request's temperature, top-p, max tokens,
// n, stop strings and seed, and returns the token ids and sampling logprobs
// of prompt and completions, so the weights lever trains on exactly what was
// sampled.
//
// # Chat template
//
//	<|bos|> ( <|role|> content <|end|> )* <|assistant|>
//
// Each message is its role token (<|system|>, <|user|>, <|assistant|>,
// <|tool|>), the UTF-8 bytes of its content, and <|end|>; the generation
// prompt is a final <|assistant|>. The model stops at <|end|> (or <|eos|>);
// that stop token is part of the returned token ids and logprobs (it was
// sampled, and learning to stop matters) but not of the message text.
// Pretraining documents use the same template, closed by the last turn's
// <|end|> (see EncodeChat and EncodeCorpus), so the base model has seen
// exactly the token layout it is served with.
//
// # Base checkpoints
//
// BaseFor pretrains a base model on a task's corpus on first use and caches
// it under the user cache dir (os.UserCacheDir()/sia/models), keyed by a
// hash of the corpus and the configuration, written atomically. The demo's
// base ships inside sia (bases.go: checked by SHA-256, copied into the
// cache), so the README's first command does not pretrain.
//
// A Model is immutable and safe for concurrent use; WithAdapter returns a new
// Model serving base+adapter under an adapter version.
package embedded
