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
//
// A reference that contains "/" (or the OS separator) or ends in ".json" is
// a file and is read as such: a file given by path always wins over any
// folder or bundled file of the same id. A bare name is looked up, first
// hit wins, in
//
//  1. SIA's folders: ProvidersDir/<name>.json for providers, and
//     ProfilesDir/<name>.json for profiles of either role (SIA keeps meta and
//     target profiles in one flat folder);
//  2. sia's user folder: UserDir/profiles/{providers,meta,target}/<name>.json;
//  3. the bundled set.
type Loader struct {
	// ProfilesDir and ProvidersDir are SIA's user folders
	// ($SIA_PROFILES_DIR / $SIA_PROVIDERS_DIR, else ./profiles and
	// ./providers of the working directory); "" skips them.
	ProfilesDir, ProvidersDir string
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
	return strings.ContainsAny(ref, `/`+string(filepath.Separator)) || strings.HasSuffix(ref, ".json")
}

// siaDir is SIA's flat folder for kind.
func (l *Loader) siaDir(kind string) string {
	if kind == KindProvider {
		return l.ProvidersDir
	}
	return l.ProfilesDir
}

// candidates are the files a name may live in, in lookup order.
func (l *Loader) candidates(kind, name string) []string {
	var out []string
	if d := l.siaDir(kind); d != "" {
		out = append(out, filepath.Join(d, name+".json"))
	}
	if l.UserDir != "" {
		out = append(out, filepath.Join(l.UserDir, "profiles", kind, name+".json"))
	}
	return out
}

// read returns the JSON for ref of kind and the file it came from
// ("bundled:<path>" for the bundled set).
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
	for _, p := range l.candidates(kind, ref) {
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
		return nil, ref, fmt.Errorf("%w (known: %s; or pass a path to a .json file)", ErrNotFound, strings.Join(names, ", "))
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

// fileDir is the folder of a file a profile was read from; "" for bundled.
func fileDir(from string) string {
	if strings.HasPrefix(from, "bundled:") || from == "" {
		return ""
	}
	if abs, err := filepath.Abs(filepath.Dir(from)); err == nil {
		return abs
	}
	return filepath.Dir(from)
}

// Provider resolves a provider reference.
func (l *Loader) Provider(ref string) (*Provider, error) {
	var p Provider
	if _, err := l.load(KindProvider, ref, &p, p.validate); err != nil {
		return nil, err
	}
	return &p, nil
}

// providerFor resolves the provider a profile read from dir names. A
// relative path that is not found from the working directory is tried
// against the profile's own folder.
func (l *Loader) providerFor(ref, dir string) (*Provider, error) {
	if isPath(ref) && !filepath.IsAbs(ref) && dir != "" {
		if _, err := os.Stat(ref); errors.Is(err, fs.ErrNotExist) {
			if alt := filepath.Join(dir, ref); fileExists(alt) {
				ref = alt
			}
		}
	}
	return l.Provider(ref)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Meta resolves a meta profile reference.
func (l *Loader) Meta(ref string) (*MetaProfile, error) {
	var p MetaProfile
	from, err := l.load(KindMeta, ref, &p, p.validate)
	if err != nil {
		return nil, err
	}
	p.Dir = fileDir(from)
	return &p, nil
}

// Target resolves a target profile reference.
func (l *Loader) Target(ref string) (*TargetProfile, error) {
	var p TargetProfile
	from, err := l.load(KindTarget, ref, &p, p.validate)
	if err != nil {
		return nil, err
	}
	p.Dir = fileDir(from)
	return &p, nil
}

// MetaProvider resolves the provider a meta profile names.
func (l *Loader) MetaProvider(p *MetaProfile) (*Provider, error) {
	return l.providerFor(p.ProviderID, p.Dir)
}

// TargetProvider resolves the provider a target profile names.
func (l *Loader) TargetProvider(p *TargetProfile) (*Provider, error) {
	return l.providerFor(p.ProviderID, p.Dir)
}

func (l *Loader) load(kind, ref string, v any, validate func() error) (string, error) {
	data, from, err := l.read(kind, ref)
	if err != nil {
		return from, fmt.Errorf("load %s %q: %w", kindNoun(kind), ref, err)
	}
	if err := decode(data, v); err != nil {
		return from, fmt.Errorf("load %s %q from %s: %w", kindNoun(kind), ref, from, err)
	}
	if err := validate(); err != nil {
		return from, fmt.Errorf("load %s %q from %s: %w", kindNoun(kind), ref, from, err)
	}
	return from, nil
}

// List returns the names of kind in SIA's folder, the user's folder and the
// bundled set, sorted, each once. SIA's profiles folder holds both roles, so
// its names are listed under meta and target alike.
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
	dirs := []string{l.siaDir(kind)}
	if l.UserDir != "" {
		dirs = append(dirs, filepath.Join(l.UserDir, "profiles", kind))
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
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
