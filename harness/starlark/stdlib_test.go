package starlark

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sia-agent/sia/harness"
)

// eval runs `return repr(<expr>)` inside solve, after optional helper
// statements, and returns the repr or the error.
func eval(t *testing.T, env harness.Env, stmts, expr string) (string, error) {
	t.Helper()
	code := "def solve(item):\n"
	for _, line := range strings.Split(strings.TrimSpace(stmts), "\n") {
		if line != "" {
			code += "    " + line + "\n"
		}
	}
	code += "    return repr(" + expr + ")\n"
	h, err := New(Config{}).LoadHarness(t.Context(), src(code, nil), env)
	if err != nil {
		return "", err
	}
	got, _, err := solve(t, h, item("i", nil))
	return got, err
}

type evalCase struct {
	name, stmts, expr, want string
	wantErr                 string
}

func runEvalCases(t *testing.T, env harness.Env, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := eval(t, env, tc.stmts, tc.expr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%s: err %v (got %s), want it to mention %q", tc.expr, err, got, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			if got != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestRe(t *testing.T) {
	runEvalCases(t, harness.Env{}, []evalCase{
		{name: "match anchored", expr: `re.match("b", "abc")`, want: "None"},
		{name: "match group", stmts: `m = re.match("(a)(x)?b", "abc")`, expr: `(m.group(), m.group(1), m.group(2), m.groups())`, want: `("ab", "a", None, ("a", None))`},
		{name: "search", stmts: `m = re.search("answer is ([A-D])", "so the answer is C.")`, expr: `m.group(1)`, want: `"C"`},
		{name: "named group and offsets", stmts: `m = re.search("(?P<n>\\d+)", "中文42")`, expr: `(m.group("n"), m.start("n"), m.end())`, want: `("42", 2, 4)`},
		{name: "fullmatch", expr: `(re.fullmatch("a+", "aaa") != None, re.fullmatch("a+", "aab"))`, want: `(True, None)`},
		{name: "findall no group", expr: `re.findall("\\d+", "a1b22c333")`, want: `["1", "22", "333"]`},
		{name: "findall one group", expr: `re.findall("x(\\d)", "x1 x2 y3")`, want: `["1", "2"]`},
		{name: "findall groups", expr: `re.findall("(\\w)=(\\d)", "a=1 b=2")`, want: `[("a", "1"), ("b", "2")]`},
		{name: "sub", expr: `re.sub("(\\w+)@(\\w+)", "${2} at $1", "me@home you@work")`, want: `"home at me work at you"`},
		{name: "sub count", expr: `re.sub("a", "b", "aaaa", count=2)`, want: `"bbaa"`},
		{name: "sub anchored count", expr: `re.sub("^a", "b", "aaaa", count=3)`, want: `"baaa"`},
		{name: "split", expr: `re.split("[,;]\\s*", "a, b;c")`, want: `["a", "b", "c"]`},
		{name: "split max", expr: `re.split(",", "a,b,c", maxsplit=1)`, want: `["a", "b,c"]`},
		{name: "escape", expr: `re.escape("a.b*")`, want: `"a\\.b\\*"`},
		{name: "bad pattern", expr: `re.search("(", "x")`, wantErr: "RE2"},
		{name: "bad group", stmts: `m = re.search("a", "a")`, expr: `m.group(3)`, wantErr: "no group 3"},
	})
}

func TestText(t *testing.T) {
	runEvalCases(t, harness.Env{}, []evalCase{
		{name: "normalize", expr: `text.normalize("  Hello,   World! ")`, want: `"hello, world!"`},
		{name: "normalize strip", expr: `text.normalize("Hello, World!", strip_punct=True, lower=False)`, want: `"Hello World"`},
		{name: "words", expr: `text.words("The cat's 2 hats, 盗窃", lower=True)`, want: `["the", "cat", "s", "2", "hats", "盗", "窃"]`},
		{name: "chars", expr: `text.chars("ab中")`, want: `["a", "b", "中"]`},
		{name: "ngrams tokens", expr: `text.ngrams(["a", "b", "c"], 2)`, want: `["a b", "b c"]`},
		{name: "ngrams string range", expr: `text.ngrams("abc", (1, 2))`, want: `["a", "b", "c", "ab", "bc"]`},
		{name: "ngrams sep", expr: `text.ngrams(["a", "b"], 2, sep="_")`, want: `["a_b"]`},
		{name: "edit distance", expr: `text.edit_distance("kitten", "sitting")`, want: `3`},
		{name: "most common", expr: `text.most_common(["b", "a", "b", "c", "a", "b"])`, want: `[("b", 3), ("a", 2), ("c", 1)]`},
		{name: "most common k ties", expr: `text.most_common([2, 1, 1, 2, 3], k=2)`, want: `[(2, 2), (1, 2)]`},
		{name: "vote", expr: `text.vote(["B", "A", "A", "B"])`, want: `"B"`},
		{name: "vote empty", expr: `text.vote([])`, want: `None`},
		{name: "ngrams bad n", expr: `text.ngrams(["a"], 0)`, wantErr: "want 1 <= lo <= hi"},
	})
}

func TestData(t *testing.T) {
	env := harness.Env{Public: fstest.MapFS{
		"train.csv":     {Data: []byte("\xef\xbb\xbfid,text,label\n1,hello,a\n2,\"x, y\",b\n")},
		"classes.json":  {Data: []byte(`{"names": ["a", "b"], "n": 2, "w": 0.5}`)},
		"sub/notes.txt": {Data: []byte("note")},
	}}
	runEvalCases(t, env, []evalCase{
		{name: "list", expr: `data.list()`, want: `["classes.json", "sub/notes.txt", "train.csv"]`},
		{name: "read", expr: `data.read("sub/notes.txt")`, want: `"note"`},
		{name: "read dot slash", expr: `data.read("./sub/notes.txt")`, want: `"note"`},
		{name: "exists", expr: `(data.exists("train.csv"), data.exists("nope"), data.exists("../x"))`, want: `(True, False, False)`},
		{name: "csv", expr: `data.csv("train.csv")`, want: `[{"id": "1", "text": "hello", "label": "a"}, {"id": "2", "text": "x, y", "label": "b"}]`},
		{name: "json", expr: `data.json("classes.json")`, want: `{"n": 2, "names": ["a", "b"], "w": 0.5}`},
		{name: "escape", expr: `data.read("../private/answers.csv")`, wantErr: "without .."},
		{name: "absolute", expr: `data.read("/etc/passwd")`, wantErr: "relative path"},
		{name: "missing", expr: `data.read("test.csv")`, wantErr: "public files: classes.json"},
	})
	runEvalCases(t, harness.Env{}, []evalCase{
		{name: "no public data", expr: `data.read("x")`, wantErr: "no public data"},
	})
}

func TestRetrieval(t *testing.T) {
	runEvalCases(t, harness.Env{}, []evalCase{
		{name: "bm25", stmts: `ix = retrieval.index(["red apple pie", "green apple", "blue car"])`,
			expr: `([d for d, s in ix.search("apple pie", k=2)], ix.size)`, want: `([0, 1], 3)`},
		{name: "tfidf char", stmts: `ix = retrieval.index(["盗窃财物", "故意伤害他人", "诈骗钱财"], method="tfidf", analyzer="char", ngram=(1, 2))`,
			expr: `ix.search("伤害", k=1)[0][0]`, want: `1`},
		{name: "bad method", expr: `retrieval.index(["a"], method="lsi")`, wantErr: "bm25 or tfidf"},
	})
}

func TestMLBuiltins(t *testing.T) {
	runEvalCases(t, harness.Env{}, []evalCase{
		{name: "tfidf transform", stmts: `v = ml.tfidf(["a b", "a c"])` + "\n" + `m = v.transform(["a b c", "zzz"])`,
			expr: `(v.vocab_size, m.rows, m.dim, m.take([1]).rows)`, want: `(3, 2, 3, 1)`},
		{name: "svm on matrix", stmts: `v = ml.tfidf(["good great", "great fine", "bad awful", "awful poor"])` + "\n" +
			`clf = ml.linear_svm(v.transform(["good great", "great fine", "bad awful", "awful poor"]), ["pos", "pos", "neg", "neg"], C=10)`,
			expr: `(clf.predict(v.transform(["great", "awful"])), clf.classes, len(clf.predict_proba(v.transform("good"))[0]))`,
			want: `(["pos", "neg"], ["neg", "pos"], 2)`},
		{name: "logreg dense", stmts: `clf = ml.logistic_regression([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.2]], ["b", "b", "a", "a"], C=100, epochs=50)`,
			expr: `clf.predict([[0.0, 1.0], [1.0, 0.1]])`, want: `["b", "a"]`},
		{name: "knn neighbors", stmts: `clf = ml.knn(ml.matrix([[0, 0], [1, 0], [9, 9]]), ["x", "x", "y"], k=1)`,
			expr: `(clf.predict([[8, 8]]), clf.neighbors([[0.9, 0]], k=2)[0][0][0])`, want: `(["y"], 1)`},
		{name: "text classifier single and list", stmts: `clf = ml.text_classifier(["cats purr", "dogs bark", "cats meow", "dogs growl"], ["cat", "dog", "cat", "dog"], analyzer="word", ngram=1)`,
			expr: `(clf.predict("my cats"), clf.predict(["dogs", "cats"]), sorted(clf.predict_proba("cats").keys()))`,
			want: `("cat", ["dog", "cat"], ["cat", "dog"])`},
		{name: "text classifier proba of a list", stmts: `clf = ml.text_classifier(["cats purr", "dogs bark", "cats meow", "dogs growl"], ["cat", "dog", "cat", "dog"], analyzer="word", ngram=1, model="logistic_regression")`,
			expr: `[p["dog"] > p["cat"] for p in clf.predict_proba(["cats", "dogs"])]`, want: `[False, True]`},
		{name: "text classifier knn", stmts: `clf = ml.text_classifier(["aa", "bb"], ["A", "B"], model="knn", k=1)`, expr: `clf.predict("aa")`, want: `"A"`},
		{name: "gbt dict rows", stmts: "rows = [{'id': str(i), 'x': i % 10, 'c': 'r' if i % 2 else 'g'} for i in range(200)]\n" +
			"y = [(r['x'] >= 5) == (r['c'] == 'r') for r in rows]\n" +
			"m = ml.gbt(rows, y, n_estimators=50, max_depth=3)",
			expr: `(m.predict({"x": 7, "c": "r"}), m.predict([{"x": 1, "c": "r"}, {"x": 8, "c": "g"}]), m.classes, sorted(m.columns))`,
			want: `("True", ["False", "False"], ["False", "True"], ["c", "x"])`},
		{name: "gbt missing key and proba", stmts: "rows = [{'x': i} for i in range(50)] + [{} for i in range(50)]\n" +
			"m = ml.gbt(rows, ['a'] * 50 + ['b'] * 50, n_estimators=20)",
			expr: `(m.predict({}), m.predict({"x": 3}), len(m.predict_proba([{"x": 1}])[0]))`, want: `("b", "a", 2)`},
		{name: "gbt regressor", stmts: "m = ml.gbt_regressor([[i] for i in range(100)], [float(i * 2) for i in range(100)], n_estimators=200, max_depth=3)",
			expr: `(abs(m.predict([50]) - 100) < 5, abs(m.predict([[20], [80]])[1] - 160) < 5)`, want: `(True, True)`},
		{name: "split", stmts: `tr, va = ml.train_val_split(list(range(10)), val_frac=0.3, seed=1)`,
			expr: `(len(tr), len(va), sorted(tr + va) == list(range(10)))`, want: `(7, 3, True)`},
		{name: "kfold", stmts: `f = ml.kfold(9, k=3)`, expr: `(len(f), sorted(f[0][0] + f[0][1]) == list(range(9)), len(f[1][1]))`, want: `(3, True, 3)`},
		{name: "accuracy", expr: `ml.accuracy(["a", "b", True], ["a", "c", "True"])`, want: `0.6666666666666666`},
		{name: "cross val", stmts: "xs = [[float(i % 2)] for i in range(40)]\nys = ['odd' if i % 2 else 'even' for i in range(40)]",
			expr: `ml.cross_val_score(lambda X, y: ml.gbt(X, y, n_estimators=5), xs, ys, k=4)`, want: `1.0`},
		{name: "cross val matrix", stmts: "v = ml.tfidf(['x a', 'y b'] * 10)\nX = v.transform(['x a', 'y b'] * 10)",
			expr: `ml.cross_val_score(lambda X, y: ml.linear_svm(X, y), X, ['X', 'Y'] * 10, k=5)`, want: `1.0`},
		{name: "gbt bad param", expr: `ml.gbt([[1], [2]], ["a", "b"], max_depth=0)`, wantErr: "max_depth"},
		{name: "gbt bad cell", expr: `ml.gbt([[[1]], [[2]]], ["a", "b"])`, wantErr: "cell must be"},
		{name: "svm label count", expr: `ml.linear_svm([[1.0]], ["a", "b"])`, wantErr: "1 rows but 2 labels"},
		{name: "ragged matrix", expr: `ml.matrix([[1, 2], [3]])`, wantErr: "row 0 has 2"},
		{name: "cross val no predict", expr: `ml.cross_val_score(lambda X, y: 1, [[1]] * 4, ["a"] * 4, k=2)`, wantErr: "no predict method"},
	})
}
