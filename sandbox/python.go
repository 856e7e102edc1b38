package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Interpreter is a Python interpreter as a sandbox must see it: the real
// executable (not a pyenv shim, which needs the user's home) and the
// folders it loads its standard library and packages from.
type Interpreter struct {
	Exe    string
	Mounts []Mount
}

// ErrNoPython is returned when the interpreter cannot be found or run.
var ErrNoPython = errors.New("python interpreter not found")

// ResolvePython asks the named interpreter (a command on PATH or a path)
// where it lives. It runs the interpreter once, outside any sandbox, with
// a fixed script and no user code.
func ResolvePython(ctx context.Context, name string) (Interpreter, error) {
	if name == "" {
		name = "python3"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return Interpreter{}, fmt.Errorf("%w: %q: %v", ErrNoPython, name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	const script = `import sys, json, os
print(json.dumps({"exe": os.path.realpath(sys.executable), "dirs": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix] + [p for p in sys.path if p]}))`
	cmd := exec.CommandContext(ctx, path, "-I", "-c", script)
	cmd.Env = append(os.Environ(), "PYTHONNOUSERSITE=1")
	out, err := cmd.Output()
	if err != nil {
		return Interpreter{}, fmt.Errorf("%w: %s does not run: %v", ErrNoPython, path, err)
	}
	var got struct {
		Exe  string   `json:"exe"`
		Dirs []string `json:"dirs"`
	}
	if err := json.Unmarshal(out, &got); err != nil || got.Exe == "" {
		return Interpreter{}, fmt.Errorf("%w: %s printed %q", ErrNoPython, path, out)
	}
	it := Interpreter{Exe: got.Exe}
	var dirs []string
	for _, d := range append(got.Dirs, filepath.Dir(got.Exe)) {
		d, err := filepath.EvalSymlinks(d)
		if err != nil || !filepath.IsAbs(d) {
			continue
		}
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue // zip entries of sys.path, missing site folders
		}
		dirs = append(dirs, filepath.Clean(d))
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if coveredByRuntime(d) || coveredBy(d, it.Mounts) {
			continue
		}
		it.Mounts = append(it.Mounts, Mount{Path: d})
	}
	return it, nil
}

func coveredByRuntime(d string) bool {
	for _, r := range runtimeDirs {
		if within(d, r) {
			return true
		}
	}
	return false
}

func coveredBy(d string, ms []Mount) bool {
	for _, m := range ms {
		if within(d, m.Path) {
			return true
		}
	}
	return false
}

// String names the interpreter for messages.
func (it Interpreter) String() string {
	var ms []string
	for _, m := range it.Mounts {
		ms = append(ms, m.Path)
	}
	return fmt.Sprintf("%s (with %s)", it.Exe, strings.Join(ms, ", "))
}
