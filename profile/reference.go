package profile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kinds of agent reference.
const (
	RefDefault = "default" // the task's own reference harness
	RefFile    = "file"    // one harness file
	RefDir     = "dir"     // a folder with an entrypoint
)

// DefaultEntrypoint is the entrypoint of a folder reference that names
// none, as in SIA.
const DefaultEntrypoint = "reference_target_agent.py"

// RequirementsFile is the dependency list SIA installs from a reference.
const RequirementsFile = "requirements.txt"

// AgentReference is a target profile's agent_reference in SIA's three
// forms: "default", {"source": "./my_agent.py"} and {"source": "./dir/",
// "entrypoint": "main.py"}. sia's older "task" and an absent value mean
// "default".
type AgentReference struct {
	// Source is the file or folder as written ("" for default).
	Source string `json:"source,omitempty"`
	// Entrypoint is the harness file inside a folder source ("" = SIA's
	// reference_target_agent.py).
	Entrypoint string `json:"entrypoint,omitempty"`
}

// IsDefault reports whether the reference is the task's own.
func (r AgentReference) IsDefault() bool { return r.Source == "" }

// UnmarshalJSON accepts "default" (or "task", or null) and {"source",
// "entrypoint"}.
func (r *AgentReference) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*r = AgentReference{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		switch s {
		case "", RefDefault, "task":
			*r = AgentReference{}
			return nil
		}
		return fmt.Errorf(`agent_reference %q: want "default" or an object {"source": "./my_agent.py"}`, s)
	}
	var obj struct {
		Source     *string `json:"source"`
		Entrypoint string  `json:"entrypoint"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return errors.New(`agent_reference: want "default" or an object {"source": …, "entrypoint": …}`)
	}
	if obj.Source == nil || *obj.Source == "" {
		return errors.New(`agent_reference: an object needs a "source" (a file, or a folder with an "entrypoint")`)
	}
	*r = AgentReference{Source: *obj.Source, Entrypoint: obj.Entrypoint}
	return nil
}

// MarshalJSON writes "default" or the object form.
func (r AgentReference) MarshalJSON() ([]byte, error) {
	if r.IsDefault() {
		return json.Marshal(RefDefault)
	}
	type plain AgentReference
	return json.Marshal(plain(r))
}

// Reference is an agent reference found on disk.
type Reference struct {
	Kind string // RefDefault, RefFile or RefDir
	// Entrypoint is the harness file (absolute); "" for RefDefault.
	Entrypoint string
	// Dir is the folder of a RefDir reference.
	Dir string
	// Requirements is the folder's requirements.txt, "" when it has none.
	Requirements string
	// Packages are the requirement lines of Requirements (comments and
	// blank lines dropped).
	Packages []string
	// Others are the folder's other files, relative to Dir (a harness here
	// is one file, so these are not carried into a run).
	Others []string
}

// Locate finds the reference on disk. A relative source resolves against
// base (the folder of the profile file; "" means the working directory),
// as SIA resolves it.
func (r AgentReference) Locate(base string) (Reference, error) {
	if r.IsDefault() {
		return Reference{Kind: RefDefault}, nil
	}
	src := r.Source
	if !filepath.IsAbs(src) && base != "" {
		src = filepath.Join(base, src)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return Reference{}, fmt.Errorf("agent_reference %s: %w", r.Source, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return Reference{}, fmt.Errorf("agent_reference source not found: %s", abs)
	}
	if !st.IsDir() {
		if r.Entrypoint != "" {
			return Reference{}, fmt.Errorf("agent_reference %s is a file: an entrypoint goes with a folder source", abs)
		}
		return Reference{Kind: RefFile, Entrypoint: abs}, nil
	}
	entry := r.Entrypoint
	if entry == "" {
		entry = DefaultEntrypoint
	}
	if filepath.IsAbs(entry) || strings.HasPrefix(filepath.Clean(entry), "..") {
		return Reference{}, fmt.Errorf("agent_reference entrypoint %q: want a file name inside %s", entry, abs)
	}
	ref := Reference{Kind: RefDir, Dir: abs, Entrypoint: filepath.Join(abs, entry)}
	if st, err := os.Stat(ref.Entrypoint); err != nil || st.IsDir() {
		return Reference{}, fmt.Errorf("agent_reference entrypoint %q not found in %s", entry, abs)
	}
	req := filepath.Join(abs, RequirementsFile)
	if b, err := os.ReadFile(req); err == nil {
		ref.Requirements = req
		ref.Packages = requirementLines(b)
	}
	err = filepath.WalkDir(abs, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != abs && (strings.HasPrefix(d.Name(), ".") || d.Name() == "__pycache__") {
				return filepath.SkipDir
			}
			return nil
		}
		if p == ref.Entrypoint || p == req || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(abs, p)
		if err != nil {
			return err
		}
		ref.Others = append(ref.Others, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return Reference{}, fmt.Errorf("agent_reference %s: %w", abs, err)
	}
	sort.Strings(ref.Others)
	return ref, nil
}

// requirementLines keeps the package lines of a requirements.txt.
func requirementLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}
