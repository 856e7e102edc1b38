package task

import (
	"strings"
	"testing"
	"testing/fstest"
)

func siaFolder(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for p, body := range files {
		m[p] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

func rows(head string, n int, row func(i int) string) string {
	var b strings.Builder
	b.WriteString(head + "\n")
	for i := range n {
		b.WriteString(row(i) + "\n")
	}
	return b.String()
}

// TestInferSIASpec lays out task folders as SIA's repository lays out its
// tasks (no task.yaml) and checks what is inferred from the files.
func TestInferSIASpec(t *testing.T) {
	itoa := func(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }
	spaceship := map[string]string{
		"data/public/task.md":                 "# Spaceship",
		"data/public/train.csv":               rows("PassengerId,Age,Transported", 30, func(i int) string { return "p" + itoa(i) + ",3,True" }),
		"data/public/test.csv":                rows("PassengerId,Age", 5, func(i int) string { return "q" + itoa(i) + ",4" }),
		"data/public/sample_submission.csv":   "PassengerId,Transported\nqaa,False\n",
		"data/public/evaluate.py":             "print(1)\n",
		"data/private/test.csv":               rows("PassengerId,Transported", 5, func(i int) string { return "q" + itoa(i) + ",False" }),
		"reference/reference_target_agent.py": "print(1)\n",
	}
	gpqaPub, gpqaPriv := "[", "["
	for i := range 10 {
		sep := ","
		if i == 0 {
			sep = ""
		}
		gpqaPub += sep + `{"id": ` + string(rune('0'+i)) + `, "Question": "q", "domain": "d"}`
		gpqaPriv += sep + `{"id": ` + string(rune('0'+i)) + `, "Question": "q", "domain": "d", "correct_answer_letter": "A"}`
	}
	gpqa := map[string]string{
		"data/public/diamond_questions.json":  gpqaPub + "]",
		"data/private/diamond_questions.json": gpqaPriv + "]",
		"evaluate.py":                         "print(1)\n",
		"reference/target_agent.py":           "print(1)\n",
	}
	chess := map[string]string{
		"data/public/train.json":      `[{"question_id": "t1", "prompt": "p", "answer": 3}, {"question_id": "t2", "prompt": "p", "answer": 4}, {"question_id": "t3", "prompt": "p", "answer": 5}]`,
		"data/public/chess_hard.json": `[{"question_id": "h1", "prompt": "p"}, {"question_id": "h2", "prompt": "p"}]`,
		"data/private/answers.json":   `[{"question_id": "h1", "answer": 1}, {"question_id": "h2", "answer": 2}]`,
		"reference/harness.star":      "def solve(item):\n    return 1\n",
	}
	lawbenchNoTrain := map[string]string{
		"data/public/test.csv":     rows("id,text", 20, func(i int) string { return "c" + itoa(i) + ",facts" }),
		"data/public/classes.json": `["盗窃", "诈骗"]`,
		"data/private/test.csv":    rows("id,label", 20, func(i int) string { return "c" + itoa(i) + ",盗窃" }),
	}
	tests := []struct {
		name                      string
		files                     map[string]string
		items, gold, id, label    string
		train, valFrom, verifier  string
		harness, runtime, valNote string
	}{
		{"spaceship-titanic", spaceship, "public/test.csv", "private/test.csv", "PassengerId", "Transported",
			"public/train.csv", Train, "evaluate.py", "reference/reference_target_agent.py", "python", "10 % of public/train.csv"},
		{"gpqa", gpqa, "public/diamond_questions.json", "private/diamond_questions.json", "id", "correct_answer_letter",
			"", Test, "evaluate.py", "reference/target_agent.py", "python", "no labelled train file, so val is a seeded 20 % of the items"},
		{"longcot-chess", chess, "public/chess_hard.json", "private/answers.json", "question_id", "answer",
			"public/train.json", Train, "exact", "reference/harness.star", "starlark", "single item of public/train.json"},
		{"lawbench without train", lawbenchNoTrain, "public/test.csv", "private/test.csv", "id", "label",
			"", Test, "exact", "", "starlark", "20 % of the items of public/test.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := loadSpec(siaFolder(tc.files), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			test := s.Splits[Test]
			if test.File != tc.items || test.Gold == nil || test.Gold.File != tc.gold {
				t.Errorf("test split %+v, want items %s gold %s", test, tc.items, tc.gold)
			}
			if s.Items.ID != tc.id || s.Items.Label != tc.label {
				t.Errorf("columns %+v, want id %s label %s", s.Items, tc.id, tc.label)
			}
			if got := s.Splits[Train].File; got != tc.train {
				t.Errorf("train %q, want %q", got, tc.train)
			}
			val := s.Splits[Val]
			if val.CarveFrom != tc.valFrom || val.Seed != inferSeed || !strings.Contains(val.Note, tc.valNote) {
				t.Errorf("val %+v, want carved from %s, a note saying %q", val, tc.valFrom, tc.valNote)
			}
			if s.Verifier != tc.verifier || s.Harness != tc.harness || s.Runtime != tc.runtime {
				t.Errorf("verifier %q harness %q runtime %q, want %q %q %q", s.Verifier, s.Harness, s.Runtime, tc.verifier, tc.harness, tc.runtime)
			}
			for name, sp := range s.Splits {
				if sp.Note == "" {
					t.Errorf("split %s has no note", name)
				}
			}
		})
	}
}

// TestInferredSplitsLoad opens an inferred folder's splits: val comes out
// of the train file (or the test items) and never overlaps test.
func TestInferredSplitsLoad(t *testing.T) {
	files := siaFolder(map[string]string{
		"data/public/test.csv":  "id,x\nq1,1\nq2,2\nq3,3\nq4,4\nq5,5\n",
		"data/private/test.csv": "id,label\nq1,a\nq2,b\nq3,c\nq4,d\nq5,e\n",
	})
	spec, err := loadSpec(files, "t")
	if err != nil {
		t.Fatal(err)
	}
	sub := fstest.MapFS{}
	for p, f := range files {
		if rest, ok := strings.CutPrefix(p, "data/"); ok {
			sub[rest] = f
		}
	}
	tk := &Task{Spec: spec, Files: files, Data: sub}
	d, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	val, test := d.Items(Val), d.Items(Test)
	if len(val) != 1 || len(test) != 4 || len(d.Train) != 0 {
		t.Fatalf("val %d test %d train %d, want 1 4 0", len(val), len(test), len(d.Train))
	}
	if _, inTest := d.Gold(Test)[val[0].ID]; inTest || d.Gold(Val)[val[0].ID] == "" {
		t.Errorf("val item %s: in test gold %v, val gold %q", val[0].ID, inTest, d.Gold(Val)[val[0].ID])
	}
}

func TestInferErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no public data", map[string]string{"data/public/task.md": "x", "data/private/test.csv": "id,label\n1,a\n"}, "no data file"},
		{"no gold", map[string]string{"data/public/test.csv": "id,x\n1,2\n"}, "no gold file"},
		{"two candidate item files", map[string]string{"data/public/a.csv": "id,x\n1,2\n", "data/public/b.csv": "id,x\n1,2\n",
			"data/private/gold.csv": "id,label\n1,a\n"}, "cannot tell which public file"},
		{"no shared column", map[string]string{"data/public/test.csv": "key,x\n1,2\n", "data/private/test.csv": "id,label\n1,a\n"}, "share no column"},
		{"two label candidates", map[string]string{"data/public/test.csv": "id,x\n1,2\n2,3\n", "data/private/test.csv": "id,p,q\n1,a,b\n2,a,b\n"}, "label column"},
		{"a single item", map[string]string{"data/public/test.csv": "id,x\n1,2\n", "data/private/test.csv": "id,label\n1,a\n"}, "no val split"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadSpec(siaFolder(tc.files), "t")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "task.yaml") {
				t.Fatalf("err %v, want one naming %q and the task.yaml way out", err, tc.want)
			}
		})
	}
}

// TestTaskYAMLWins keeps a folder's task.yaml authoritative, and lets one
// that names no verifier leave scoring to the folder's evaluate.py.
func TestTaskYAMLWins(t *testing.T) {
	files := map[string]string{
		"task.yaml":             "name: mine\nsplits:\n  val: {file: public/test.csv, gold: {file: private/test.csv}}\n  test: {file: public/test.csv, gold: {file: private/test.csv}}\n",
		"data/public/test.csv":  "id,x\n1,2\n",
		"data/private/test.csv": "id,label\n1,a\n",
	}
	s, err := loadSpec(siaFolder(files), "folder")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "mine" || s.Verifier != "exact" || s.Splits[Val].CarveFrom != "" {
		t.Errorf("spec %+v: task.yaml should win", s)
	}
	files["data/public/evaluate.py"] = "print(1)\n"
	if s, err = loadSpec(siaFolder(files), "folder"); err != nil || s.Verifier != "evaluate.py" {
		t.Errorf("verifier %q (%v), want the folder's evaluate.py when task.yaml names none", s.Verifier, err)
	}
	files["task.yaml"] = strings.Replace(files["task.yaml"], "name: mine\n", "name: mine\nverifier: exact_fold\n", 1)
	if s, err = loadSpec(siaFolder(files), "folder"); err != nil || s.Verifier != "exact_fold" {
		t.Errorf("verifier %q (%v), want the one task.yaml names", s.Verifier, err)
	}
}
