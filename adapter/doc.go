// Package adapter reads and validates LoRA adapters in the PEFT folder
// layout: adapter_config.json (peft_type, r, lora_alpha, target_modules,
// base_model_name_or_path, …) next to adapter_model.safetensors.
//
// Remote trainers (train/command, train/tinker) hand back folders written by
// code sia does not control; Validate checks such a folder before it is
// accepted as a new adapter version or loaded into a vLLM server, so a broken
// trainer run fails with one clear error instead of a 400 from the server
// later. The checks mirror what vLLM's PEFTHelper rejects (missing r,
// lora_alpha or target_modules, modules_to_save, DoRA, bias other than
// "none", rank above --max-lora-rank) plus a parse of the safetensors header
// that checks every tensor's byte range and every lora_A/lora_B shape
// against the declared rank.
//
// The safetensors header is parsed by hand (8-byte little-endian header
// length, then a JSON object of name → {dtype, shape, data_offsets}); only
// the header is read, never the tensor data, so validating a multi-gigabyte
// adapter is cheap.
package adapter
