package spaceship_test

import (
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/task"
	spaceship "github.com/sia-agent/sia/task/bundled/spaceship-titanic"
	"github.com/sia-agent/sia/trajectory"
)

// A synthetic world where CryoSleep decides the label: every variant must
// learn it (the model variant is scripted and must pass its reply through).
func TestReferenceVariants(t *testing.T) {
	src, err := spaceship.Bundle().Files.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("reference/harness.star")
	if err != nil {
		t.Fatal(err)
	}
	var train []task.Example
	csv := "PassengerId,HomePlanet,CryoSleep,Cabin\n"
	for i := range 200 {
		cryo, label, spend := "False", "False", "500.0"
		if i%2 == 0 {
			cryo, label, spend = "True", "True", "0.0"
		}
		id := fmt.Sprintf("%04d_01", i)
		train = append(train, task.Example{Label: label, Item: task.Item{ID: id, Fields: map[string]any{
			"PassengerId": id, "HomePlanet": []string{"Earth", "Mars", "Europa"}[i%3], "CryoSleep": cryo,
			"Cabin": fmt.Sprintf("F/%d/S", i), "Destination": "TRAPPIST-1e", "Age": "30.0", "VIP": "False",
			"RoomService": spend, "FoodCourt": "0.0", "ShoppingMall": "0.0", "Spa": "0.0", "VRDeck": "0.0", "Name": "A B",
		}}})
		csv += id + ",Earth," + cryo + ",F/1/S\n"
	}
	public := fstest.MapFS{"train.csv": {Data: []byte(csv)}}
	asleep := task.Item{ID: "9999_01", Fields: map[string]any{"PassengerId": "9999_01", "HomePlanet": "Mars", "CryoSleep": "True",
		"Cabin": "G/7/P", "Destination": "TRAPPIST-1e", "Age": "", "VIP": "", "RoomService": "", "FoodCourt": "0.0",
		"ShoppingMall": "0.0", "Spa": "", "VRDeck": "0.0", "Name": ""}}
	tests := []struct {
		name  string
		knobs map[string]any
		reply string
	}{
		{"gbt", map[string]any{"n_estimators": 150}, ""},
		{"logreg", map[string]any{"variant": "logreg"}, ""},
		{"model", map[string]any{"variant": "model"}, "True."},
	}
	rt := starlark.New(starlark.Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := harness.Env{Train: train, Public: public, Seed: 1}
			if tc.reply != "" {
				env.Model = llmtest.Script(tc.reply)
			}
			h, err := rt.Load(t.Context(), harness.Source{Name: "harness.star", Code: src, Knobs: tc.knobs}, env)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.Solve(t.Context(), asleep, harness.Sample{Rec: trajectory.NewRecorder()})
			if err != nil {
				t.Fatal(err)
			}
			if r := (spaceship.Scorer{}).ScoreItem("x", got, "True"); r.Status != "correct" {
				t.Fatalf("answer %q scored %s", got, r.Status)
			}
		})
	}
}
