// Package tinker is a train.Trainer that speaks the Tinker training API over
// HTTP: Thinking Machines' hosted service, and the same protocol served by
// SkyRL-tx on your own GPUs. There is no official Go SDK, so this is a
// hand-written client of the REST routes the Python SDK
// (thinking-machines-lab/tinker) uses: create_session, create_model with a
// lora_config, forward_backward, optim_step, save_weights,
// save_weights_for_sampler, load_weights, asample and retrieve_future, plus
// the checkpoint archive download.
//
// A weight update is: build token-level datums from the generation's
// trajectories (model_input = sequence[:-1], target_tokens = sequence[1:],
// sampling logprobs and per-token advantages on the completion positions,
// zeros on the prompt), forward_backward with the loss the algorithm maps to,
// optim_step with Adam, then save the weights for the sampler (and for
// resuming) and optionally download the sampler checkpoint as a PEFT folder.
// Advantages are computed in Go by the rl package, so:
//
//	grpo          importance_sampling (or ppo) on group-normalised advantages
//	entropic      importance_sampling on entropic advantages n·w_i − 1
//	reinforce_kl  importance_sampling on r − leave-one-out baseline, minus
//	              β·(log π_sample − log π_base) per token; base logprobs come
//	              from asample with prompt_logprobs on the base model
//	best_of_n     cross_entropy on the top samples' completion tokens
//
// PPO with GAE (it needs a value head the service does not train) and DPO (a
// pairwise loss the service has no built-in for) are refused with an error
// wrapping train.ErrUnsupported that points to the command backend.
//
// The wire follows the current Python SDK. Before the first session the
// client asks POST client/config; when the server's flags set
// proto_write_fwdbwd, forward_backward goes as the SDK's binary protobuf
// (tinker_public.ForwardBackwardRequest, Content-Type
// application/x-protobuf, zstd-compressed with Content-Encoding: zstd when
// proto_compress_fwdbwd is set), else as JSON; Config.Wire forces either. A
// server without the route (SkyRL-tx) gets JSON. Futures of ForwardBackward
// and Sample results are polled with Accept: application/x-protobuf,
// application/json and decoded from either (proto.go: ForwardBackwardOutput
// batched tensors sliced by byte offset, bfloat16 and int32 widened, as the
// SDK's response_conv does).
//
// Requests carry the API key as X-API-Key; when client/config sets
// pjwt_auth_enabled, the key is exchanged (POST auth/token {}) for a JWT
// that is sent instead and exchanged again when under a minute of it is
// left, as the SDK's JwtAuthProvider does. The SDK's gRPC transport
// (grpc_target, whose interceptor adds the same x-api-key metadata) is not
// implemented: its flags are off by default and REST serves every route.
//
// Every training operation returns a future. Futures are polled through
// retrieve_future the way the Python SDK's _APIFuture does: a 45-second HTTP
// timeout per poll, allow_metadata_only on the first poll (a
// {"status":"complete_metadata"} answer means: poll again for the whole
// result), 408 and a {"type":"try_again"} body mean "poll again", 5xx polls
// again, 410 means the future expired and the operation is submitted again,
// a body {"error","category"} is a failed operation (category "user" is the
// caller's fault and is never retried), connection errors back off
// min(2^n, 30) s. Unlike the SDK, every operation also has a deadline
// (Config.FutureTimeout). Submissions retry 408, 409, 429 and 5xx with
// exponential backoff, as the SDK's RetryHandler does; a 429 is reported
// (Event "rate_limited") and its Retry-After honoured. A 402 (billing) is
// waited out, as the SDK's billing pause does, for the server's
// billing_exception_max_pause_duration_sec (default 1 h; Config.BillingPause
// overrides), reported once a minute (Event "billing_pause"), then fails
// with a *BillingError. Every training request carries a per-model seq_id so
// a retried submission is idempotent.
//
// Checkpoint archives are fetched as the SDK's `tinker checkpoint download`
// does: the archive route asked with Accept: application/json answers 200
// {"url","expires"} (or, on earlier backends, 302 with Location); the signed
// URL is fetched without credentials; the archive is a tar (gzip'd or not)
// whose links and escaping paths are refused; Tinker's checkpoint_complete
// marker stays out of the adapter folder.
//
// Sampling from the trained adapter goes through Tinker's OpenAI-compatible
// endpoint (OAIBaseURL) with model set to the tinker:// sampler path that
// Result.Name holds, or through the downloaded PEFT folder on a vLLM server.
package tinker
