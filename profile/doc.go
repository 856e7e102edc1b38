// Package profile reads providers and profiles, the JSON files that pick
// the backend of each role, and opens the models they name.
//
// The formats are the reference SIA system's, and every field it writes is
// read:
//
//	provider        {provider_id, name, client_kind: anthropic|openai|google|embedded, base_url?, api_key_env}
//	meta profile    {profile_id, name, agent_impl, model, provider_id, model_canonical_name?}
//	target profile  {profile_id, name, model, provider_id, agent_reference?, model_canonical_name?}
//
// agent_impl is builtin (sia's offline agents) or any of llm, claude,
// openhands and pydantic-ai, which all run as sia's tool-use agent over the
// profile's model; ModelFor maps SIA's model spellings (claude shortcuts,
// LiteLLM and PydanticAI vendor prefixes) to the id the provider expects.
// agent_reference is "default" or {"source": file} or {"source": folder,
// "entrypoint": file} (AgentReference, Locate). A provider may also set
// "vllm": true (the server is vLLM: ask it for token ids). Unknown fields
// are ignored, so SIA's own files load unchanged.
//
// A reference is a name or a path: a value containing "/" or ending in
// ".json" is read as a file, and always wins. A name is looked up in SIA's
// folders (Loader.ProvidersDir, Loader.ProfilesDir: flat, both roles in one
// folder), then in sia's user folder
// (UserDir()/profiles/{providers,meta,target}/<name>.json), then in the
// bundled set. Environment variables reach this package only through a
// getenv function; a provider whose api_key_env is unset fails with one
// error naming the variable before any request is made, except a local
// server (loopback base_url), which is called without a key.
//
// client_kind google goes through Google's OpenAI-compatible endpoint
// (GoogleBaseURL), with the key from api_key_env, else GEMINI_API_KEY, else
// GOOGLE_API_KEY.
//
// The embedded provider is not opened here: Open reports ErrEmbedded and the
// caller builds the in-process model.
package profile
