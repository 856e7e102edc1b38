package lawbench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

func TestScoreItem(t *testing.T) {
	tests := []struct {
		name, answer, gold, status string
	}{
		{"exact", "盗窃", "盗窃", verify.StatusCorrect},
		{"spaces trimmed", " 盗窃\n", "盗窃", verify.StatusCorrect},
		{"brackets dropped in answer", "走私、贩卖、运输、制造毒品", "[走私、贩卖、运输、制造]毒品", verify.StatusCorrect},
		{"brackets kept", "[走私、贩卖、运输、制造]毒品", "[走私、贩卖、运输、制造]毒品", verify.StatusCorrect},
		{"two bracket groups", "生产、销售有毒、有害食品", "[生产、销售][有毒、有害]食品", verify.StatusCorrect},
		{"trailing 罪 is a different label", "盗窃罪", "盗窃", verify.StatusWrong},
		{"wrong charge", "诈骗", "盗窃", verify.StatusWrong},
		{"empty", "  ", "盗窃", verify.StatusInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Scorer{}).ScoreItem("1", tc.answer, tc.gold); got.Status != tc.status {
				t.Fatalf("status %q, want %q", got.Status, tc.status)
			}
		})
	}
}

func TestParseSubmission(t *testing.T) {
	tests := []struct {
		name, file, body string
		want             map[string]string
		wantErr          bool
	}{
		{"label column", "submission.csv", "id,label\n1,盗窃\n2,诈骗\n", map[string]string{"1": "盗窃", "2": "诈骗"}, false},
		{"last column when no label", "predictions.csv", "id,text,pred\n1,x,盗窃\n", map[string]string{"1": "盗窃"}, false},
		{"label column not last", "submission.csv", "label,id\n盗窃,7\n", map[string]string{"7": "盗窃"}, false},
		{"json object", "submission.json", `{"1": "盗窃"}`, map[string]string{"1": "盗窃"}, false},
		{"no id column", "submission.csv", "qid,label\n1,盗窃\n", nil, true},
		{"only id column", "submission.csv", "id\n1\n", nil, true},
		{"empty csv", "submission.csv", "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSubmission(tc.file, []byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func writeData(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, Name)
	train := "id,text,label\n"
	for i := range 30 {
		train += string(rune('a'+i%26)) + string(rune('a'+i/26)) + ",案情,盗窃\n"
	}
	files := map[string]string{
		"public/train.csv":    train,
		"public/test.csv":     "id,text\n1,甲\n2,乙\n3,丙\n4,丁\n5,戊\n",
		"public/classes.json": `["盗窃", "诈骗", "[走私、贩卖、运输、制造]毒品"]`,
		"private/test.csv":    "id,label\n1,盗窃\n2,盗窃\n3,诈骗\n4,[走私、贩卖、运输、制造]毒品\n5,诈骗\n",
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
	if len(ds.Train) != 27 || len(ds.Items(task.Val)) != 3 {
		t.Fatalf("train %d val %d, want 27 and 3", len(ds.Train), len(ds.Items(task.Val)))
	}
	sub := "id,label\n1,盗窃\n2,诈骗\n3,诈骗\n4,走私、贩卖、运输、制造毒品\n"
	answers, err := tk.ParseSubmission("submission.csv", []byte(sub))
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
	// 1 ✓, 2 ✗, 3 ✓, 4 ✓ (brackets), 5 missing: 3/5.
	want := map[string]float64{
		"accuracy": 0.6, "n_correct": 3, "n_total": 5,
		"per_class/盗窃": 0.5, "per_class/诈骗": 0.5, "per_class/走私、贩卖、运输、制造毒品": 1,
	}
	for k, w := range want {
		if got := res.Metrics[k]; got != w {
			t.Errorf("%s = %v, want %v", k, got, w)
		}
	}
	if res.Score != 0.6 || res.Counts[verify.StatusMissing] != 1 {
		t.Fatalf("score %v counts %v", res.Score, res.Counts)
	}
}
