package llmagent

import (
	"strings"
	"testing"
)

// TestMetaPromptShowsSIASamples: a SIA task folder's example task
// descriptions and sample trajectory reach the Meta-Agent's prompt, as
// SIA's meta prompt gives them; without them the prompt is unchanged.
func TestMetaPromptShowsSIASamples(t *testing.T) {
	p, err := loadPrompts(PromptVersion)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{}
	cfg.applyDefaults()
	in := metaInput(t, nil)
	plain, err := p.render(promptMetaUser, newMetaData(&in, StarlarkFile, cfg))
	if err != nil {
		t.Fatal(err)
	}
	in.SampleTasks = "## Sample 1\n- text: a case"
	in.SampleExecution = `{"steps": [{"kind": "model_call"}]}`
	got, err := p.render(promptMetaUser, newMetaData(&in, StarlarkFile, cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SAMPLE_TASK_DESCRIPTIONS.md", "- text: a case", "sample_agent_execution.json", `"kind": "model_call"`} {
		if !strings.Contains(got, want) {
			t.Errorf("meta prompt lacks %q", want)
		}
		if strings.Contains(plain, want) {
			t.Errorf("prompt without samples has %q", want)
		}
	}
}
