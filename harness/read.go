package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names a harness version is stored under, one per runtime.
const (
	StarlarkFile = "harness.star"
	PythonFile   = "target_agent.py"
)

// FileFor returns the file name a harness for runtime ("starlark" or
// "python") is stored under.
func FileFor(runtime string) string {
	if runtime == "python" {
		return PythonFile
	}
	return StarlarkFile
}

// ReadSource reads a harness version from path: a Starlark (.star) or
// Python (.py) file, or a folder holding harness.star or target_agent.py —
// a run's gen_<n>/ or best/ — together with its knobs.json when present.
// A file is stored under its runtime's name whatever it is called; its
// knobs take their first candidates.
func ReadSource(path string) (Source, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Source{}, fmt.Errorf("harness: %w", err)
	}
	if !info.IsDir() {
		name, err := fileName(path)
		if err != nil {
			return Source{}, err
		}
		code, err := os.ReadFile(path)
		if err != nil {
			return Source{}, fmt.Errorf("harness: %w", err)
		}
		return Source{Name: name, Code: code}, nil
	}
	var src Source
	for _, name := range []string{StarlarkFile, PythonFile} {
		code, err := os.ReadFile(filepath.Join(path, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Source{}, fmt.Errorf("harness: %w", err)
		}
		if src.Name != "" {
			return Source{}, fmt.Errorf("harness: %s holds both %s and %s; pass the file you mean", path, StarlarkFile, PythonFile)
		}
		src = Source{Name: name, Code: code}
	}
	if src.Name == "" {
		return Source{}, fmt.Errorf("harness: %s holds neither %s nor %s", path, StarlarkFile, PythonFile)
	}
	b, err := os.ReadFile(filepath.Join(path, KnobsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return Source{}, fmt.Errorf("harness: %w", err)
	default:
		if src.Knobs, err = ParseKnobs(b); err != nil {
			return Source{}, fmt.Errorf("harness: %s: %w", filepath.Join(path, KnobsFile), err)
		}
	}
	return src, nil
}

func fileName(path string) (string, error) {
	switch filepath.Ext(path) {
	case ".star":
		return StarlarkFile, nil
	case ".py":
		return PythonFile, nil
	}
	return "", fmt.Errorf("harness: %s: want a .star or .py file, or a folder holding %s or %s", path, StarlarkFile, PythonFile)
}
