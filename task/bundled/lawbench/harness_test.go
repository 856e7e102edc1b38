package lawbench_test

import (
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/lawbench"
	"github.com/sia-agent/sia/trajectory"
)

func TestReferenceVariants(t *testing.T) {
	src, err := lawbench.Bundle().Files.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("reference/harness.star")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"被告人秘密窃取他人财物,盗走手机一部。": "盗窃",
		"被告人虚构事实骗取被害人钱款二万元。":  "诈骗",
		"被告人贩卖甲基苯丙胺五克给吸毒人员。":  "[走私、贩卖、运输、制造]毒品",
		"被告人趁无人之际秘密窃取店内现金。":   "盗窃",
		"被告人以投资为名虚构事实骗取财物。":   "诈骗",
		"被告人运输海洛因被查获,毒品重十克。":  "[走私、贩卖、运输、制造]毒品",
	}
	var train []task.Example
	for text, label := range cases {
		train = append(train, task.Example{Item: task.Item{ID: text, Fields: map[string]any{"text": text}}, Label: label})
	}
	public := fstest.MapFS{"classes.json": {Data: []byte(`["盗窃", "诈骗", "[走私、贩卖、运输、制造]毒品"]`)}}
	item := task.Item{ID: "q", Fields: map[string]any{"text": "被告人贩卖毒品甲基苯丙胺给他人。"}}
	tests := []struct {
		name  string
		knobs map[string]any
		reply string
		want  string
	}{
		{"svm", nil, "", "[走私、贩卖、运输、制造]毒品"},
		{"knn", map[string]any{"variant": "knn", "k": 3}, "", "[走私、贩卖、运输、制造]毒品"},
		{"model reply snapped to a class", map[string]any{"variant": "model", "k": 3}, "罪名:走私、贩卖、运输、制造毒品罪", "[走私、贩卖、运输、制造]毒品"},
		{"model near miss snapped", map[string]any{"variant": "model", "k": 3}, "盗窃罪", "盗窃"},
	}
	rt := starlark.New(starlark.Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := harness.Env{Train: train, Public: public}
			if tc.reply != "" {
				env.Model = llmtest.Script(tc.reply)
			}
			h, err := rt.Load(t.Context(), harness.Source{Name: "harness.star", Code: src, Knobs: tc.knobs}, env)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Solve(t.Context(), item, harness.Sample{Rec: trajectory.NewRecorder()})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
