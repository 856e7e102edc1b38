package runstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLayoutPaths(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{RunDirName("3"), "run_3"},
		{SeedRunDirName(12), "run_12"},
		{SweepDirName("demo_auto"), "sweep_demo_auto"},
		{SweepLogFile(4), "logs/run_4.log"},
		{GenDirName(7), "gen_7"},
		{GenFile(2, RolloutsFile), "gen_2/rollouts.jsonl"},
		{GenFile(2, AdapterDir), "gen_2/adapter"},
		{BestFile(TestResultsFile), "best/test_results.json"},
		{BestFile(FreshResultsFile), "best/fresh_results.json"},
		{BestFile(ConfirmResultsFile), "best/confirm_results.json"},
		{BestFile(TestRolloutsFile), "best/test_rollouts.jsonl"},
		{BaselineResults("val"), "baseline/val_results.json"},
		{BaselineRollouts("test"), "baseline/test_rollouts.jsonl"},
		{TrainRolloutsFile(1), "train_rollouts.jsonl"},
		{TrainRolloutsFile(3), "train_rollouts_3.jsonl"},
		{TrainLog(1, 1), "train.jsonl"},
		{TrainLog(1, 2), "train_1.jsonl"},
		{TrainLog(2, 2), "train.jsonl"},
		{RoundAdapterDir(1), "rounds/1"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestTrainLogRound(t *testing.T) {
	for _, tc := range []struct {
		name  string
		round int
		ok    bool
	}{
		{"train.jsonl", 0, true},
		{"train_1.jsonl", 1, true},
		{"train_12.jsonl", 12, true},
		{"train_rollouts.jsonl", 0, false},
		{"train_rollouts_2.jsonl", 0, false},
		{"train_.jsonl", 0, false},
		{"train_0.jsonl", 0, false},
		{"train_-1.jsonl", 0, false},
		{"train_2.json", 0, false},
		{"results.json", 0, false},
	} {
		round, ok := TrainLogRound(tc.name)
		if round != tc.round || ok != tc.ok {
			t.Errorf("TrainLogRound(%q) = %d, %v; want %d, %v", tc.name, round, ok, tc.round, tc.ok)
		}
	}
	// What TrainLog names, TrainLogRound reads back.
	for rounds := 1; rounds <= 3; rounds++ {
		for round := 1; round <= rounds; round++ {
			want := round
			if round == rounds {
				want = 0
			}
			if got, ok := TrainLogRound(TrainLog(round, rounds)); !ok || got != want {
				t.Errorf("round %d of %d: TrainLogRound(%q) = %d, %v", round, rounds, TrainLog(round, rounds), got, ok)
			}
		}
	}
}

func TestIsRunDirAndReadConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), RunDirName("1"))
	if IsRunDir(dir) {
		t.Fatal("a missing folder is a run folder")
	}
	s, err := Create(dir, map[string]int{"max_gen": 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !IsRunDir(dir) {
		t.Fatal("Create made no run folder")
	}
	var cfg struct {
		MaxGen int `json:"max_gen"`
	}
	if err := ReadConfig(dir, &cfg); err != nil || cfg.MaxGen != 3 {
		t.Fatalf("ReadConfig: %+v, %v", cfg, err)
	}
	if err := s.WriteConfig(map[string]int{"max_gen": 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReadConfig(&cfg); err != nil || cfg.MaxGen != 5 {
		t.Fatalf("Store.ReadConfig after WriteConfig: %+v, %v", cfg, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReadConfig(dir, &cfg); err == nil || !strings.Contains(err.Error(), ConfigFile) {
		t.Errorf("a torn %s reads as %v, want an error naming it", ConfigFile, err)
	}
}

// TestReadmeListsTheLayout keeps README's run-folder listing true: every
// name a run folder holds is in it.
func TestReadmeListsTheLayout(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Skipf("no README beside the module: %v", err)
	}
	readme := string(b)
	start := strings.Index(readme, "## The run folder")
	if start < 0 {
		t.Fatal(`README has no "## The run folder" section`)
	}
	section := readme[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	for _, name := range []string{
		RunDirName("<id>"), ConfigFile, EventsFile, LockFile, ContextFile, MemoryFile, ReturnsFile, BaselineFile,
		GenDirName(0)[:len("gen_")] + "<n>", RolloutsFile, ResultsFile, SelectionFile, CandidatesFile, DecisionFile,
		FeedbackFile, ImprovementFile, SetupLogFile, MeasurementsFile, AdapterDir + "/", TrainLogFile,
		strings.TrimSuffix(TrainRolloutsFile(1), ".jsonl") + "*.jsonl", BestDir + "/",
		TestResultsFile, TestRolloutsFile, FreshResultsFile, ConfirmResultsFile, BestInfoFile, BaselineDir + "/",
		TrainLog(1, 2)[:len("train_")] + "<k>.jsonl", roundsDir + "/<k>/",
	} {
		if !strings.Contains(section, name) {
			t.Errorf("README's run-folder section does not name %s", name)
		}
	}
}
