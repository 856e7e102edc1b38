package profile

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

//go:embed bundled
var bundledFS embed.FS

// Kinds of file, each in its own folder.
const (
	KindProvider = "providers"
	KindMeta     = "meta"
	KindTarget   = "target"
)

// ErrNotFound is wrapped when a name is in neither the user's folder nor the
// bundled set.
var ErrNotFound = errors.New("not found")

// UserDir is sia's folder in the user config directory, following
// os.UserConfigDir's rules but reading the environment through getenv.
func UserDir(getenv func(string) string) (string, error) {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = getenv("AppData")
		if base == "" {
			return "", errors.New("user config dir: %AppData% is not set")
		}
	case "darwin", "ios":
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("user config dir: $HOME is not set")
		}
		base = filepath.Join(home, "Library", "Application Support")
	case "plan9":
		home := getenv("home")
		if home == "" {
			return "", errors.New("user config dir: $home is not set")
		}
		base = filepath.Join(home, "lib")
	default:
		base = getenv("XDG_CONFIG_HOME")
		if base == "" || !filepath.IsAbs(base) {
			home := getenv("HOME")
			if home == "" {
				return "", errors.New("user config dir: neither $XDG_CONFIG_HOME nor $HOME is set")
			}
			base = filepath.Join(home, ".config")
		}
	}
	return filepath.Join(base, "sia"), nil
}

// Loader resolves references to providers and profiles.
type Loader struct {
	// UserDir is sia's user config folder (see UserDir); profiles live in
	// its profiles/ subfolder. "" skips the user's files.
	UserDir string
	// Bundled replaces the compiled-in set (tests); nil means compiled-in.
	Bundled fs.FS
}

func (l *Loader) bundled() fs.FS {
	if l.Bundled != nil {
		return l.Bundled
	}
	sub, err := fs.Sub(bundledFS, "bundled")
	if err != nil {
		return bundledFS // unreachable: "bundled" is a valid path
	}
	return sub
}

// isPath says whether a reference names a file rather than a profile.
func isPath(ref string) bool {
	return strings.ContainsAny(ref, `/\`) || strings.HasSuffix(ref, ".json")
}

// read returns the JSON for ref of kind and where it came from.
func (l *Loader) read(kind, ref string) ([]byte, string, error) {
	if ref == "" {
		return nil, "", fmt.Errorf("empty %s reference", kindNoun(kind))
	}
	if isPath(ref) {
		data, err := os.ReadFile(ref)
		if err != nil {
			return nil, ref, err
		}
		return data, ref, nil
	}
	if err := checkID("name", ref); err != nil {
		return nil, ref, err
	}
	if l.UserDir != "" {
		p := filepath.Join(l.UserDir, "profiles", kind, ref+".json")
		data, err := os.ReadFile(p)
		if err == nil {
			return data, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, p, err
		}
	}
	p := path.Join(kind, ref+".json")
	data, err := fs.ReadFile(l.bundled(), p)
	if errors.Is(err, fs.ErrNotExist) {
		names, _ := l.List(kind)
		return nil, ref, fmt.Errorf("%w (known: %s)", ErrNotFound, strings.Join(names, ", "))
	}
	return data, "bundled:" + p, err
}

func kindNoun(kind string) string {
	switch kind {
	case KindProvider:
		return "provider"
	case KindMeta:
		return "meta profile"
	default:
		return "target profile"
	}
}

func decode(data []byte, v any) error {
	// Unknown fields are allowed: SIA's files may carry more than we read.
	return json.Unmarshal(data, v)
}

// Provider resolves a provider reference.
func (l *Loader) Provider(ref string) (*Provider, error) {
	var p Provider
	if err := l.load(KindProvider, ref, &p, p.validate); err != nil {
		return nil, err
	}
	return &p, nil
}

// Meta resolves a meta profile reference.
func (l *Loader) Meta(ref string) (*MetaProfile, error) {
	var p MetaProfile
	if err := l.load(KindMeta, ref, &p, p.validate); err != nil {
		return nil, err
	}
	return &p, nil
}

// Target resolves a target profile reference.
func (l *Loader) Target(ref string) (*TargetProfile, error) {
	var p TargetProfile
	if err := l.load(KindTarget, ref, &p, p.validate); err != nil {
		return nil, err
	}
	return &p, nil
}

func (l *Loader) load(kind, ref string, v any, validate func() error) error {
	data, from, err := l.read(kind, ref)
	if err != nil {
		return fmt.Errorf("load %s %q: %w", kindNoun(kind), ref, err)
	}
	if err := decode(data, v); err != nil {
		return fmt.Errorf("load %s %q from %s: %w", kindNoun(kind), ref, from, err)
	}
	if err := validate(); err != nil {
		return fmt.Errorf("load %s %q from %s: %w", kindNoun(kind), ref, from, err)
	}
	return nil
}

// List returns the names of kind in the user's folder and the bundled set,
// sorted, each once.
func (l *Loader) List(kind string) ([]string, error) {
	seen := map[string]bool{}
	add := func(entries []fs.DirEntry) {
		for _, e := range entries {
			if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
				seen[name] = true
			}
		}
	}
	entries, err := fs.ReadDir(l.bundled(), kind)
	if err != nil {
		return nil, fmt.Errorf("list bundled %s: %w", kind, err)
	}
	add(entries)
	if l.UserDir != "" {
		dir := filepath.Join(l.UserDir, "profiles", kind)
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		add(entries)
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
