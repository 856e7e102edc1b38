package starlark

import (
	"fmt"
	"strings"

	sl "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/sia-agent/sia/llm"
)

func modelModule(*moduleEnv) (sl.Value, error) {
	return &starlarkstruct.Module{Name: "model", Members: sl.StringDict{
		"chat": sl.NewBuiltin("model.chat", modelChat),
	}}, nil
}

// modelChat is model.chat(messages, n=1, temperature=None, max_tokens=0,
// top_p=None, stop=None, system=None).
func modelChat(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
	var (
		messages    sl.Value
		n                    = 1
		temperature sl.Value = sl.None
		topP        sl.Value = sl.None
		maxTokens   int
		stop        sl.Value = sl.None
		system      sl.Value = sl.None
	)
	if err := sl.UnpackArgs(b.Name(), args, kwargs,
		"messages", &messages, "n?", &n, "temperature?", &temperature, "max_tokens?", &maxTokens,
		"top_p?", &topP, "stop?", &stop, "system?", &system); err != nil {
		return nil, err
	}
	st := stateOf(thread)
	if st.model == nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), llm.ErrNoModel)
	}
	if n < 1 || n > 64 {
		return nil, fmt.Errorf("%s: n=%d must be in [1, 64]", b.Name(), n)
	}
	if maxTokens < 0 {
		return nil, fmt.Errorf("%s: max_tokens=%d must not be negative", b.Name(), maxTokens)
	}
	msgs, err := chatMessages(messages)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if system != sl.None {
		s, ok := sl.AsString(system)
		if !ok {
			return nil, fmt.Errorf("%s: system must be a string, got %s", b.Name(), system.Type())
		}
		msgs = append([]llm.Message{{Role: llm.RoleSystem, Content: s}}, msgs...)
	}
	req := llm.Request{Messages: msgs, N: n, MaxTokens: maxTokens, Logprobs: true}
	if req.Temperature, err = optFloat("temperature", temperature); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if req.TopP, err = optFloat("top_p", topP); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	switch s := stop.(type) {
	case sl.NoneType:
	case sl.String:
		req.Stop = []string{string(s)}
	default:
		if req.Stop, err = stringList("stop", stop); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	seed := st.nextSeed()
	req.Seed = &seed
	c, err := st.model.Chat(st.ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if c == nil || len(c.Choices) == 0 {
		return nil, fmt.Errorf("%s: the model returned no choices", b.Name())
	}
	texts := make([]sl.Value, len(c.Choices))
	sums := make([]sl.Value, len(c.Choices))
	perToken := make([]sl.Value, len(c.Choices))
	for i, ch := range c.Choices {
		texts[i] = sl.String(ch.Message.Content)
		sums[i], perToken[i] = logprobValues(ch.Logprobs)
	}
	return starlarkstruct.FromStringDict(sl.String("chat_response"), sl.StringDict{
		"text":           sl.String(c.Choices[0].Message.Content),
		"texts":          sl.NewList(texts),
		"finish":         sl.String(c.Choices[0].FinishReason),
		"model":          sl.String(c.Model),
		"logprob":        sums[0],
		"logprobs":       sl.NewList(sums),
		"token_logprobs": sl.NewList(perToken),
		"usage": starlarkstruct.FromStringDict(sl.String("usage"), sl.StringDict{
			"prompt_tokens":     sl.MakeInt(c.Usage.PromptTokens),
			"completion_tokens": sl.MakeInt(c.Usage.CompletionTokens),
		}),
	}), nil
}

// logprobValues turns one completion's sampling logprobs into its sum
// (None when the backend returned none) and the per-token list.
func logprobValues(lps []float64) (sl.Value, sl.Value) {
	if len(lps) == 0 {
		return sl.None, sl.NewList(nil)
	}
	sum := 0.0
	toks := make([]sl.Value, len(lps))
	for i, lp := range lps {
		sum += lp
		toks[i] = sl.Float(lp)
	}
	return sl.Float(sum), sl.NewList(toks)
}

func optFloat(name string, v sl.Value) (*float64, error) {
	if v == sl.None {
		return nil, nil
	}
	f, ok := sl.AsFloat(v)
	if !ok {
		return nil, fmt.Errorf("%s must be a number, got %s", name, v.Type())
	}
	return &f, nil
}

// chatMessages reads a plain string (one user message) or a list of
// {"role", "content"} dicts.
func chatMessages(v sl.Value) ([]llm.Message, error) {
	if s, ok := v.(sl.String); ok {
		return []llm.Message{{Role: llm.RoleUser, Content: string(s)}}, nil
	}
	list, ok := v.(sl.Indexable)
	if !ok {
		return nil, fmt.Errorf("messages must be a string or a list of {\"role\", \"content\"} dicts, got %s", v.Type())
	}
	if list.Len() == 0 {
		return nil, fmt.Errorf("messages is empty")
	}
	out := make([]llm.Message, list.Len())
	for i := range list.Len() {
		d, ok := list.Index(i).(*sl.Dict)
		if !ok {
			return nil, fmt.Errorf("messages[%d] must be a dict with role and content, got %s", i, list.Index(i).Type())
		}
		for _, key := range []string{"role", "content"} {
			f, found, _ := d.Get(sl.String(key))
			if !found {
				return nil, fmt.Errorf("messages[%d] has no %q", i, key)
			}
			s, ok := sl.AsString(f)
			if !ok {
				return nil, fmt.Errorf("messages[%d][%q] must be a string, got %s", i, key, f.Type())
			}
			if key == "role" {
				switch s {
				case llm.RoleSystem, llm.RoleUser, llm.RoleAssistant:
				default:
					return nil, fmt.Errorf("messages[%d] role %q: want system, user or assistant", i, s)
				}
				out[i].Role = s
			} else {
				out[i].Content = s
			}
		}
	}
	return out, nil
}

func logBuiltin(*moduleEnv) (sl.Value, error) {
	return sl.NewBuiltin("log", func(thread *sl.Thread, b *sl.Builtin, args sl.Tuple, kwargs []sl.Tuple) (sl.Value, error) {
		if len(kwargs) > 0 {
			return nil, fmt.Errorf("log: takes no keyword arguments")
		}
		parts := make([]string, len(args))
		for i, a := range args {
			if s, ok := a.(sl.String); ok {
				parts[i] = string(s)
			} else {
				parts[i] = a.String()
			}
		}
		stateOf(thread).log(strings.Join(parts, " "))
		return sl.None, nil
	}), nil
}
