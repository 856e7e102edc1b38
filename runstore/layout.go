package runstore

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// The run folder's layout. Every name a run folder (and a runs folder)
// holds is written here once: the loop writes through these names, and
// report, web and the CLI read through them. A path from this file is
// relative to the run folder and slash-separated, so it is an fs.FS path
// as it stands and an OS path under Store.Path or filepath.Join.

// Files and folders at the top of a run folder.
const (
	ConfigFile   = "run.json"      // the config snapshot, written by Create
	EventsFile   = "events.jsonl"  // append-only, one completed step per line
	LockFile     = "run.lock"      // held (flock) while a process works in the run
	ContextFile  = "context.md"    // the run so far, for people and agents
	MemoryFile   = "memory.json"   // every change tried (agent.Memory)
	ReturnsFile  = "returns.json"  // each lever's measured return
	BaselineFile = "baseline.json" // the reference harness's scores
	BaselineDir  = "baseline"      // its results and rollouts: SliceResults(split), SliceRollouts(split)
	BestDir      = "best"          // the incumbent
	// TempDir is a run folder's scratch space (a python harness's working
	// folders): emptied whenever the run is opened again.
	TempDir = ".tmp"
)

// Files in a generation folder, gen_<n>/ (GenFile), besides its harness
// version, whose files (harness.star or target_agent.py, knobs.json)
// package harness names: a harness folder is also read from outside runs
// (--harness DIR, a task's reference). ResultsFile, RolloutsFile and
// AdapterDir are in best/ too.
const (
	RolloutsFile     = "rollouts.jsonl"     // one trajectory per sample
	ResultsFile      = "results.json"       // the verifier's gold-free verdict
	SelectionFile    = "selection.json"     // the paired comparison with the incumbent
	CandidatesFile   = "candidates.json"    // the harnesses ranked for this generation
	DecisionFile     = "decision.json"      // how this generation came to be
	FeedbackFile     = "feedback.json"      // the Feedback-Agent's decision after it
	ImprovementFile  = "improvement.md"     // the decision's hypothesis, evidence, change
	SetupLogFile     = "setup_log.txt"      // the harness's log lines from loading
	MeasurementsFile = "measurements.jsonl" // the agents' train-split measurements
	AdapterDir       = "adapter"            // the PEFT LoRA folder a weight update wrote
	TrainLogFile     = "train.jsonl"        // the last round's training curve (TrainLog)
	roundsDir        = "rounds"             // earlier rounds' adapters (RoundAdapterDir)
)

// Files in best/ besides the incumbent's harness, results and adapter.
const (
	BestInfoFile       = "best.json" // which generation best/ holds
	TestRolloutsFile   = "test_" + RolloutsFile
	TestResultsFile    = "test_" + ResultsFile
	FreshResultsFile   = "fresh_" + ResultsFile   // fresh samples of the selection slice
	ConfirmResultsFile = "confirm_" + ResultsFile // the confirmation slice
)

// Folders of a runs folder besides run folders.
const (
	// SweepFile is a sweep folder's record of its configuration.
	SweepFile = "sweep.json"
	sweepLogs = "logs"
)

// RunDirName is run id's folder in a runs folder: run_<id>.
func RunDirName(id string) string { return "run_" + id }

// SweepDirName is sweep name's folder in a runs folder: sweep_<name>. It
// holds a run folder per seed (SeedRunDirName) and SweepFile.
func SweepDirName(name string) string { return "sweep_" + name }

// SeedRunDirName is the run folder of seed in a sweep folder: run_<seed>.
func SeedRunDirName(seed int64) string { return RunDirName(strconv.FormatInt(seed, 10)) }

// SweepLogFile is where a sweep writes seed's run output:
// logs/run_<seed>.log in the sweep folder.
func SweepLogFile(seed int64) string { return path.Join(sweepLogs, SeedRunDirName(seed)+".log") }

// GenDirName is generation n's folder: gen_<n>.
func GenDirName(n int) string { return "gen_" + strconv.Itoa(n) }

// GenFile is a file (or folder) of generation n: gen_<n>/name.
func GenFile(n int, name string) string { return path.Join(GenDirName(n), name) }

// BestFile is a file (or folder) of best/.
func BestFile(name string) string { return path.Join(BestDir, name) }

// BaselineResults is the reference harness's verdict on split (val or
// test): baseline/<split>_results.json.
func BaselineResults(split string) string { return path.Join(BaselineDir, split+"_"+ResultsFile) }

// BaselineRollouts is the reference harness's rollouts on split:
// baseline/<split>_rollouts.jsonl.
func BaselineRollouts(split string) string { return path.Join(BaselineDir, split+"_"+RolloutsFile) }

// TrainRolloutsFile is the train-split rollouts round (from 1) of a weight
// update trained on, in its generation folder: train_rollouts.jsonl, then
// train_rollouts_<round>.jsonl.
func TrainRolloutsFile(round int) string {
	if round <= 1 {
		return "train_rollouts.jsonl"
	}
	return "train_rollouts_" + strconv.Itoa(round) + ".jsonl"
}

// TrainLog is the training curve of round (from 1) of a weight update of
// rounds rounds, in its generation folder: the last round's is
// TrainLogFile, an earlier round's train_<round>.jsonl.
func TrainLog(round, rounds int) string {
	if round >= rounds {
		return TrainLogFile
	}
	return "train_" + strconv.Itoa(round) + ".jsonl"
}

// RoundAdapterDir is where round (from 1) of a weight update writes its
// adapter when a later round follows, in its generation folder:
// rounds/<round>. The last round writes AdapterDir.
func RoundAdapterDir(round int) string { return path.Join(roundsDir, strconv.Itoa(round)) }

// TrainLogRound says whether name, a file of a generation folder, is a
// training curve (TrainLog), and of which round: 0 for TrainLogFile (the
// last round), k for train_<k>.jsonl. Train rollouts are not curves.
func TrainLogRound(name string) (round int, ok bool) {
	if name == TrainLogFile {
		return 0, true
	}
	k, ok := strings.CutPrefix(name, "train_")
	if !ok {
		return 0, false
	}
	k, ok = strings.CutSuffix(k, ".jsonl")
	if !ok || k == "" || strings.Trim(k, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(k)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// IsRunDir reports whether dir is a run folder: it holds ConfigFile.
func IsRunDir(dir string) bool {
	info, err := os.Stat(filepath.Join(dir, ConfigFile))
	return err == nil && !info.IsDir()
}

// ReadConfig reads run folder dir's config snapshot (ConfigFile) into v,
// without opening the run: the CLI reads it before it takes the lock.
func ReadConfig(dir string, v any) error {
	p := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}
