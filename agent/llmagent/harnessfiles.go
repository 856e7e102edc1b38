package llmagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/sia-agent/sia/harness"
)

// Harness file names.
const (
	StarlarkFile = harness.StarlarkFile
	PythonFile   = harness.PythonFile
	KnobsFile    = harness.KnobsFile
)

// harnessName picks the file the agent edits: the base source's name, else
// the runtime's conventional one.
func harnessName(base harness.Source, runtime string) string {
	if base.Name != "" {
		return base.Name
	}
	return harness.FileFor(runtime)
}

// seedSource writes src into the workspace as name (+ knobs.json), so the
// session starts from a known harness.
func seedSource(ws *workspace, name string, src harness.Source) error {
	if err := ws.WriteFile(name, src.Code); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if len(src.Knobs) == 0 {
		return ws.Remove(KnobsFile)
	}
	b, err := json.MarshalIndent(src.Knobs, "", "  ")
	if err != nil {
		return fmt.Errorf("encode knobs: %w", err)
	}
	if err := ws.WriteFile(KnobsFile, append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", KnobsFile, err)
	}
	return nil
}

// readSource reads the harness the agent left in the workspace.
func readSource(ws *workspace, name string) (harness.Source, error) {
	code, err := ws.ReadFile(name)
	if err != nil {
		return harness.Source{}, fmt.Errorf("read %s: %w", name, err)
	}
	if len(code) == 0 {
		return harness.Source{}, fmt.Errorf("%s is empty", name)
	}
	src := harness.Source{Name: name, Code: code}
	kb, err := ws.ReadFile(KnobsFile)
	switch {
	case err == nil:
		knobs, err := harness.ParseKnobs(kb)
		if err != nil {
			return harness.Source{}, err
		}
		src.Knobs = knobs
	case errors.Is(err, fs.ErrNotExist):
	default:
		return harness.Source{}, fmt.Errorf("read %s: %w", KnobsFile, err)
	}
	return src, nil
}
