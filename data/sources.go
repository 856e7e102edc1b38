package data

import (
	"fmt"
	"sort"
)

// Auth names what a source needs before it will serve a file.
const (
	AuthNone        = ""
	AuthHuggingFace = "huggingface" // an HF access token, after accepting the dataset's terms
)

// Source is one file of a task's data and where it comes from.
type Source struct {
	// File is the destination inside SIA_DATA_DIR/<task>/.
	File string
	URL  string
	// SHA256 pins the file's content (hex). Empty means unpinned: the
	// download is kept but the report says it was not verified.
	SHA256 string
	Auth   string
	// Convert names a post-download step ("gpqa_csv"); the raw download
	// then goes to a temporary file, not to File.
	Convert string
}

// siaCommit pins SIA's repository (hexo-ai/sia) to the revision whose task
// files the bundled tasks mirror.
const siaCommit = "7fd04d07bd2f47a110115674432b73622ebf7455"

func siaFile(task, path string) string {
	return "https://raw.githubusercontent.com/hexo-ai/sia/" + siaCommit + "/sia/tasks/" + task + "/data/" + path
}

// sources lists every bundled task's files. The sha256 pins were computed
// from the project's shared copy of the very same files (SIA's
// spaceship-titanic train/test/sample_submission, SIA's lawbench
// classes.json); SIA's other files have no shared copy and are unpinned.
var sourceTable = map[string][]Source{
	"spaceship-titanic": {
		{File: "public/train.csv", URL: siaFile("spaceship-titanic", "public/train.csv"), SHA256: "d852203bbc5e603b92a7cfc0b46e23277c43d7a910b1db8b0ad58b7c6e3f2baa"},
		{File: "public/test.csv", URL: siaFile("spaceship-titanic", "public/test.csv"), SHA256: "3419be13605ce69f7c7cac393e6ba21c01951364a140647c4782bf1da696df47"},
		{File: "public/sample_submission.csv", URL: siaFile("spaceship-titanic", "public/sample_submission.csv"), SHA256: "879640352922a43fafe213dc620f68db6299035b5d7d3d54a97e33440ed1406e"},
		{File: "private/test.csv", URL: siaFile("spaceship-titanic", "private/test.csv")},
	},
	"lawbench": {
		{File: "public/train.csv", URL: siaFile("lawbench", "public/train.csv")},
		{File: "public/test.csv", URL: siaFile("lawbench", "public/test.csv")},
		{File: "public/classes.json", URL: siaFile("lawbench", "public/classes.json"), SHA256: "08bb3ccd2568076b0d2ec2e062e2a25027d147bf8e9bd8337bf4156b3e3cbd88"},
		{File: "private/test.csv", URL: siaFile("lawbench", "private/test.csv")},
	},
	"longcot-chess": {
		{File: "public/chess_hard.json", URL: siaFile("longcot-chess", "public/chess_hard.json")},
		{File: "private/answers.json", URL: siaFile("longcot-chess", "private/answers.json")},
	},
	"gpqa": {
		{File: "gpqa_diamond.csv", URL: "https://huggingface.co/datasets/Idavidrein/gpqa/resolve/main/gpqa_diamond.csv", Auth: AuthHuggingFace, Convert: "gpqa_csv"},
	},
}

// Tasks lists the tasks Pull knows.
func Tasks() []string {
	out := make([]string, 0, len(sourceTable))
	for t := range sourceTable {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Sources returns a copy of a task's source list.
func Sources(task string) ([]Source, error) {
	s, ok := sourceTable[task]
	if !ok {
		return nil, fmt.Errorf("no download sources for task %q (known: %v); a task that makes its data from a seed (sia tasks: \"generated\") needs none", task, Tasks())
	}
	return append([]Source(nil), s...), nil
}
