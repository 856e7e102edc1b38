// Package profile reads providers and profiles, the JSON files that pick
// the backend of each role, and opens the models they name.
//
// The formats are the reference SIA system's:
//
//	provider        {provider_id, name, client_kind: anthropic|openai|embedded, base_url?, api_key_env}
//	meta profile    {profile_id, name, agent_impl, model, provider_id}
//	target profile  {profile_id, name, model, provider_id, agent_reference}
//
// A provider may also set "vllm": true (the server is vLLM: ask it for token
// ids). Unknown fields are ignored, so SIA's own files load unchanged.
//
// A reference is a name or a path: a value containing "/" or ending in
// ".json" is read as a file; a name is looked up first in the user's folder
// (UserDir()/profiles/{providers,meta,target}/<name>.json) and then in the
// bundled set (anthropic, openai, openrouter, ollama, vllm, embedded, and the
// builtin meta profile). Environment variables reach this package only
// through a getenv function; a provider whose api_key_env is unset fails with
// one error naming the variable before any request is made.
//
// The embedded provider is not opened here: Open reports ErrEmbedded and the
// caller builds the in-process model.
package profile
