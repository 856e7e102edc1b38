package cli

import (
	"os"
	"path/filepath"
)

// Env reads SIA_* variables through accessors evaluated on call.
type Env struct{ get func(string) string }

// envVars documents every variable sia reads (shown in --help).
var envVars = []struct{ name, help string }{
	{"SIA_DATA_DIR", "task data root: <dir>/<task>/{public,private} (default: the user data dir, ~/.local/share/sia/data)"},
	{"SIA_CACHE_DIR", "cache for pretrained embedded base models (default: the user cache dir, ~/.cache/sia)"},
	{"SIA_CONFIG_DIR", "user profiles and price tables (default: the user config dir, ~/.config/sia)"},
	{"SIA_RUNS_DIR", "default for --runs-dir (default ./runs)"},
	{"HF_TOKEN", "HuggingFace token for `sia data pull gpqa` (a gated dataset)"},
	{"SIA_PROFILES_DIR, SIA_PROVIDERS_DIR", "SIA's profile and provider folders (default ./profiles and ./providers), searched before SIA_CONFIG_DIR"},
	{"SIA_META_AGENT_PROFILE, SIA_TARGET_AGENT_PROFILE", "defaults for --meta-profile and --target-profile"},
	{"SIA_MAX_GENERATIONS, SIA_MAX_TURNS", "default for --max-gen; the LLM agents' turn limit (default 20)"},
	{"SIA_SANDBOX_MODE, SIA_LOG_LEVEL", "defaults for --sandbox and --log-level"},
	{"SIA_EARLY_STOP_THRESHOLD", "stop the run once the incumbent's val score reaches this"},
	{"SIA_BEST_OF_N, other SIA_*", "SIA's other settings: applied where they mean something here, else refused with what to use instead (README)"},
	{"TINKER_API_KEY, TINKER_BASE_URL", "the Tinker training service, for --trainer tinker"},
	{"ANTHROPIC_API_KEY, OPENAI_API_KEY, …", "API keys, named by each provider profile's api_key_env"},
}

// DataDir is SIA_DATA_DIR or the per-user default.
func (e Env) DataDir() string {
	if v := e.get("SIA_DATA_DIR"); v != "" {
		return v
	}
	if v := e.get("XDG_DATA_HOME"); v != "" {
		return filepath.Join(v, "sia", "data")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "sia", "data")
	}
	return filepath.Join(os.TempDir(), "sia-data")
}

// CacheDir is SIA_CACHE_DIR or the user cache dir.
func (e Env) CacheDir() string {
	if v := e.get("SIA_CACHE_DIR"); v != "" {
		return v
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sia")
	}
	return filepath.Join(os.TempDir(), "sia-cache")
}

// ConfigDir is SIA_CONFIG_DIR or the user config dir.
func (e Env) ConfigDir() string {
	if v := e.get("SIA_CONFIG_DIR"); v != "" {
		return v
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "sia")
	}
	return ""
}

// RunsDir is SIA_RUNS_DIR or ./runs.
func (e Env) RunsDir() string {
	if v := e.get("SIA_RUNS_DIR"); v != "" {
		return v
	}
	return "runs"
}

// Get reads any variable (API keys for profiles).
func (e Env) Get(name string) string { return e.get(name) }
