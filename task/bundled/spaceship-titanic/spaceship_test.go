package spaceship

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

func TestScoreItem(t *testing.T) {
	tests := []struct {
		answer, gold, status string
	}{
		{"True", "True", verify.StatusCorrect},
		{"true", "True", verify.StatusCorrect},
		{" TRUE ", "True", verify.StatusCorrect},
		{"1", "True", verify.StatusCorrect},
		{"1.0", "True", verify.StatusInvalid},
		{"False", "False", verify.StatusCorrect},
		{"0", "False", verify.StatusCorrect},
		{"0.0", "False", verify.StatusInvalid},
		{"False", "True", verify.StatusWrong},
		{"1", "False", verify.StatusWrong},
		{"yes", "True", verify.StatusCorrect},
		{"N", "False", verify.StatusCorrect},
		{"maybe", "True", verify.StatusInvalid},
		{"", "True", verify.StatusInvalid},
		{"0.7", "True", verify.StatusInvalid},
		{"True", "maybe", verify.StatusError},
	}
	for _, tc := range tests {
		t.Run(tc.answer+"/"+tc.gold, func(t *testing.T) {
			got := Scorer{}.ScoreItem("x", tc.answer, tc.gold)
			if got.Status != tc.status {
				t.Fatalf("status %q, want %q", got.Status, tc.status)
			}
			if want := tc.status == verify.StatusCorrect; (got.Reward == 1) != want {
				t.Fatalf("reward %v for status %s", got.Reward, got.Status)
			}
		})
	}
}

func TestParseSubmission(t *testing.T) {
	good := "PassengerId,Transported\n0001_01,True\n0002_01,False\n"
	got, err := ParseSubmission("submission.csv", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["0001_01"] != "True" || got["0002_01"] != "False" {
		t.Fatalf("got %v", got)
	}
	bad := map[string]string{
		"no Transported column": "PassengerId,Foo\n0001_01,True\n",
		"not csv or json":       "",
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			file := "submission.csv"
			if body == "" {
				file = "submission.txt"
			}
			if _, err := ParseSubmission(file, []byte(body)); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// writeData lays out a tiny hand-made task folder.
func writeData(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, Name)
	header := "PassengerId,HomePlanet,CryoSleep,Cabin,Destination,Age,VIP,RoomService,FoodCourt,ShoppingMall,Spa,VRDeck,Name"
	var train string
	for i := range 20 {
		train += fmt.Sprintf("%04d_01,Earth,False,F/1/S,TRAPPIST-1e,30,False,0,0,0,0,0,A B,True\n", i)
	}
	files := map[string]string{
		"public/train.csv": header + ",Transported\n" + train,
		"public/test.csv": header + "\n" +
			"t1_01,Earth,True,,,,,,,,,,\n" +
			"t2_01,Mars,False,,,,,,,,,,\n" +
			"t3_01,Europa,False,,,,,,,,,,\n" +
			"t4_01,Earth,False,,,,,,,,,,\n",
		"private/test.csv": "PassengerId,Transported\nt1_01,True\nt2_01,False\nt3_01,True\nt4_01,False\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The path `sia verify` takes: open, load, parse a submission, verify.
func TestVerifySubmission(t *testing.T) {
	root := t.TempDir()
	writeData(t, root)
	reg, err := task.NewRegistry(Bundle())
	if err != nil {
		t.Fatal(err)
	}
	tk, err := reg.Open(Name, task.Options{DataRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ds.Items(task.Val)); n != 2 {
		t.Fatalf("val carve: %d items, want 2 (10 %% of 20)", n)
	}
	tests := []struct {
		name       string
		submission string
		accuracy   float64
		counts     map[string]int
	}{
		{"all right", "PassengerId,Transported\nt1_01,True\nt2_01,False\nt3_01,True\nt4_01,False\n", 1, map[string]int{"correct": 4}},
		{"spellings", "PassengerId,Transported\nt1_01,1\nt2_01,false\nt3_01,TRUE\nt4_01,0\n", 1, map[string]int{"correct": 4}},
		{"one wrong one missing", "PassengerId,Transported\nt1_01,True\nt2_01,True\nt3_01,True\n", 0.5, map[string]int{"correct": 2, "wrong": 1, "missing": 1}},
		{"invalid and extra ids", "PassengerId,Transported\nt1_01,maybe\nt2_01,False\nt3_01,False\nt4_01,False\nzz_01,True\n", 0.5, map[string]int{"correct": 2, "wrong": 1, "invalid": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answers, err := tk.ParseSubmission("submission.csv", []byte(tc.submission))
			if err != nil {
				t.Fatal(err)
			}
			v, err := tk.Verifier(task.Test)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(t.Context(), answers, ds.Gold(task.Test))
			if err != nil {
				t.Fatal(err)
			}
			if res.Score != tc.accuracy || res.Metric != "accuracy" || res.N != 4 {
				t.Fatalf("score %v (%s, n=%d), want %v", res.Score, res.Metric, res.N, tc.accuracy)
			}
			for st, n := range tc.counts {
				if res.Counts[st] != n {
					t.Fatalf("counts %v, want %v", res.Counts, tc.counts)
				}
			}
		})
	}
}
