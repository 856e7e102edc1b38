package tinker

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Wire types of the Tinker REST API, as the Python SDK's pydantic types
// serialise them (tinker/types/*.py). Optional fields are omitted when unset.

type createSessionRequest struct {
	Tags         []string          `json:"tags"`
	UserMetadata map[string]string `json:"user_metadata"`
	SDKVersion   string            `json:"sdk_version"`
	Type         string            `json:"type"` // "create_session"
}

type createSessionResponse struct {
	SessionID      string `json:"session_id"`
	InfoMessage    string `json:"info_message,omitempty"`
	WarningMessage string `json:"warning_message,omitempty"`
	ErrorMessage   string `json:"error_message,omitempty"`
}

type loraConfig struct {
	Rank         int    `json:"rank"`
	Seed         *int64 `json:"seed,omitempty"`
	TrainUnembed bool   `json:"train_unembed"`
	TrainMLP     bool   `json:"train_mlp"`
	TrainAttn    bool   `json:"train_attn"`
}

type createModelRequest struct {
	SessionID    string            `json:"session_id"`
	ModelSeqID   int               `json:"model_seq_id"`
	BaseModel    string            `json:"base_model"`
	UserMetadata map[string]string `json:"user_metadata,omitempty"`
	LoraConfig   loraConfig        `json:"lora_config"`
	Type         string            `json:"type"` // "create_model"
}

// futureReply is what an operation route answers: the id to poll. Hosted
// Tinker sends a string; SkyRL-tx a stringified integer plus future_id.
type futureReply struct {
	RequestID flexID `json:"request_id"`
	ModelID   string `json:"model_id,omitempty"`
}

// flexID accepts a JSON string or number.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("request_id is neither a string nor a number: %s", b)
	}
	if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
		return fmt.Errorf("request_id %s: %w", n, err)
	}
	*f = flexID(n)
	return nil
}

type createModelResult struct {
	ModelID string `json:"model_id"`
}

type encodedText struct {
	Type   string `json:"type"` // "encoded_text"
	Tokens []int  `json:"tokens"`
}

type modelInput struct {
	Chunks []encodedText `json:"chunks"`
}

func tokensInput(tokens []int) modelInput {
	return modelInput{Chunks: []encodedText{{Type: "encoded_text", Tokens: tokens}}}
}

// tensorData is a flattened tensor; Data holds []int (int64) or []float32.
type tensorData struct {
	Data  any    `json:"data"`
	DType string `json:"dtype"` // "int64" or "float32"
	Shape []int  `json:"shape,omitempty"`
}

func int64Tensor(x []int) tensorData {
	return tensorData{Data: x, DType: "int64", Shape: []int{len(x)}}
}

func float32Tensor(x []float32) tensorData {
	return tensorData{Data: x, DType: "float32", Shape: []int{len(x)}}
}

type datum struct {
	ModelInput   modelInput            `json:"model_input"`
	LossFnInputs map[string]tensorData `json:"loss_fn_inputs"`
}

type forwardBackwardInput struct {
	Data         []datum            `json:"data"`
	LossFn       string             `json:"loss_fn"`
	LossFnConfig map[string]float64 `json:"loss_fn_config,omitempty"`
}

type forwardBackwardRequest struct {
	ForwardBackwardInput forwardBackwardInput `json:"forward_backward_input"`
	ModelID              string               `json:"model_id"`
	SeqID                int                  `json:"seq_id"`
}

type forwardBackwardOutput struct {
	LossFnOutputType string                       `json:"loss_fn_output_type"`
	LossFnOutputs    []map[string]json.RawMessage `json:"loss_fn_outputs"`
	Metrics          map[string]float64           `json:"metrics"`
}

// AdamParams are the optimizer settings of one optim_step.
type AdamParams struct {
	LearningRate float64 `json:"learning_rate"`
	Beta1        float64 `json:"beta1"`
	Beta2        float64 `json:"beta2"`
	Eps          float64 `json:"eps"`
	// WeightDecay is sent only when non-zero: older servers (and SkyRL-tx
	// before it added the field) validate strictly.
	WeightDecay float64 `json:"weight_decay,omitempty"`
}

type optimStepRequest struct {
	AdamParams AdamParams `json:"adam_params"`
	ModelID    string     `json:"model_id"`
	SeqID      int        `json:"seq_id"`
	Type       string     `json:"type"` // "optim_step"
}

type optimStepResult struct {
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

type saveWeightsRequest struct {
	ModelID string `json:"model_id"`
	Path    string `json:"path"`
	SeqID   int    `json:"seq_id"`
	Type    string `json:"type"` // "save_weights" or "save_weights_for_sampler"
}

type loadWeightsRequest struct {
	ModelID string `json:"model_id"`
	Path    string `json:"path"`
	SeqID   int    `json:"seq_id"`
	// Optimizer restores the Adam state too (the SDK's
	// load_state_with_optimizer).
	Optimizer bool   `json:"optimizer,omitempty"`
	Type      string `json:"type"` // "load_weights"
}

type pathResult struct {
	Path string `json:"path"`
}

type samplingParams struct {
	MaxTokens   int     `json:"max_tokens"`
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k"`
	TopP        float64 `json:"top_p"`
}

type sampleRequest struct {
	NumSamples     int            `json:"num_samples"`
	Prompt         modelInput     `json:"prompt"`
	SamplingParams samplingParams `json:"sampling_params"`
	BaseModel      string         `json:"base_model"`
	PromptLogprobs bool           `json:"prompt_logprobs"`
	Type           string         `json:"type"` // "sample"
}

type sampleResult struct {
	PromptLogprobs []*float64 `json:"prompt_logprobs"`
}

type retrieveFutureRequest struct {
	RequestID string `json:"request_id"`
	// AllowMetadataOnly lets the server first answer {"status":
	// "complete_metadata", "response_payload_size"} for a large result; the
	// SDK then polls again without it.
	AllowMetadataOnly bool `json:"allow_metadata_only"`
}

type clientConfigRequest struct {
	SDKVersion string `json:"sdk_version"`
}
