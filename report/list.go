package report

import (
	"errors"
	"fmt"
	"github.com/sia-agent/sia/runstore"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Run statuses in a listing.
const (
	StatusFinished   = "finished"
	StatusUnfinished = "unfinished" // still running, or stopped before its end (sia run --resume continues it)
	StatusBroken     = "unreadable" // run.json or events.jsonl cannot be read
)

// Entry is one run in a runs folder.
type Entry struct {
	Name      string    `json:"name"`
	Task      string    `json:"task"`
	Mode      string    `json:"mode"`
	Metric    string    `json:"metric"`
	Gens      int       `json:"gens"` // verified generations
	MaxGen    int       `json:"max_gen"`
	Best      *Best     `json:"best"`
	TestScore *float64  `json:"test_score"`
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"` // why an unreadable run is
	Updated   time.Time `json:"updated"`
	Tokens    int       `json:"tokens"`
	CostUSD   float64   `json:"cost_usd"`
}

// List reads every run folder (a folder holding run.json) directly under
// fsys, in natural name order (run_2 before run_10). A folder whose files
// cannot be read is listed as unreadable, not skipped.
func List(fsys fs.FS) ([]Entry, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sub, err := fs.Sub(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		if _, err := fs.Stat(sub, runstore.ConfigFile); err != nil {
			continue
		}
		out = append(out, entryOf(sub, e.Name()))
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i].Name, out[j].Name) })
	return out, nil
}

func entryOf(fsys fs.FS, name string) Entry {
	r, err := OpenFS(fsys, name)
	if err != nil {
		e := Entry{Name: name, Status: StatusBroken, Error: err.Error()}
		if info, err := fs.Stat(fsys, runstore.ConfigFile); err == nil {
			e.Updated = info.ModTime()
		}
		return e
	}
	s := r.Summary
	e := Entry{Name: name, Task: s.Task, Mode: s.Mode, Metric: s.Metric, MaxGen: r.Config.MaxGen,
		Best: s.Best, TestScore: s.TestScore, Status: StatusUnfinished, Updated: r.Updated,
		Tokens: s.Tokens, CostUSD: s.CostUSD}
	for _, g := range s.Generations {
		if g.Score != nil {
			e.Gens++
		}
	}
	if s.Finished {
		e.Status = StatusFinished
	}
	return e
}

// naturalLess orders names with their digit runs compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:da], 10, 64)
			nb, _ := strconv.ParseUint(b[:db], 10, 64)
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// Latest returns the most recently updated readable run of a listing.
func Latest(entries []Entry) (Entry, bool) {
	var best Entry
	found := false
	for _, e := range entries {
		if e.Status == StatusBroken {
			continue
		}
		if !found || e.Updated.After(best.Updated) {
			best, found = e, true
		}
	}
	return best, found
}

// ErrNoRuns is returned by Resolve for "latest" in a folder without runs.
var ErrNoRuns = errors.New("no runs")

// Resolve turns what a user typed for a run into its folder: a path to a
// run folder; "latest" (the most recently updated run in runsDir); a run's
// folder name in runsDir ("run_3"); or a bare run id ("3" for run_3).
func Resolve(runsDir, arg string) (string, error) {
	if arg == "latest" {
		entries, err := List(os.DirFS(runsDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("list runs in %s: %w", runsDir, err)
		}
		e, ok := Latest(entries)
		if !ok {
			return "", fmt.Errorf("latest: %w in %s (set --runs-dir or SIA_RUNS_DIR)", ErrNoRuns, runsDir)
		}
		return filepath.Join(runsDir, e.Name), nil
	}
	for _, p := range []string{arg, filepath.Join(runsDir, arg), filepath.Join(runsDir, runstore.RunDirName(arg))} {
		if runstore.IsRunDir(p) {
			return p, nil
		}
	}
	if isDir(arg) {
		return "", fmt.Errorf("%s is not a run folder (it has no %s)", arg, runstore.ConfigFile)
	}
	return "", fmt.Errorf("no run %q: not a run folder, nor a run in %s (see sia show --list)", arg, runsDir)
}

func isDir(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}
