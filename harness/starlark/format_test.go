package starlark

import (
	"strings"
	"testing"

	sl "go.starlark.net/starlark"
)

// evalFormat runs `x = <expr>` through the harness compiler and returns x.
func evalFormat(t *testing.T, code string) (string, error) {
	t.Helper()
	prog, err := compileHarness("f.star", []byte(code), sl.StringDict{})
	if err != nil {
		return "", err
	}
	g, err := prog.Init(&sl.Thread{}, sl.StringDict{percentName: percentBuiltin})
	if err != nil {
		return "", err
	}
	s, _ := sl.AsString(g["x"])
	return s, nil
}

// TestPercentFormatting checks `%` against Python's printf-style results
// (computed with python3: `fmt % args`); %r differs only in that Starlark's
// repr quotes strings with ".
func TestPercentFormatting(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`"%.4f" % 0.123456`, "0.1235"},
		{`"%8.3f" % 3.14159`, "   3.142"},
		{`"%-8.2f|" % 2.5`, "2.50    |"},
		{`"%+.1e" % 12345.678`, "+1.2e+04"},
		{`"%5d" % 42`, "   42"},
		{`"%-5d|" % 42`, "42   |"},
		{`"%05d" % -42`, "-0042"},
		{`"%x" % 255`, "ff"},
		{`"%#x" % 255`, "0xff"},
		{`"%#o" % 8`, "0o10"},
		{`"%08.3f" % -3.14159`, "-003.142"},
		{`"%.3s" % "abcdef"`, "abc"},
		{`"%10s|" % "hi"`, "        hi|"},
		{`"%-10r|" % "hi"`, `"hi"      |`},
		{`"%g" % 1234567.0`, "1.23457e+06"},
		{`"%g" % 0.0001`, "0.0001"},
		{`"%.2g" % 0.000123`, "0.00012"},
		{`"%G" % 1e-10`, "1E-10"},
		{`"%c" % 65`, "A"},
		{`"%c" % "z"`, "z"},
		{`"%.3d" % 5`, "005"},
		{`"%d%%" % 50`, "50%"},
		{`"%d" % 3.7`, "3"},
		{`"%f" % float("inf")`, "inf"},
		{`"%5.1f%%" % 99.44`, " 99.4%"},
		{`"% d" % 7`, " 7"},
		{`"%X" % 3054`, "BEE"},
		{`"%s=%.2f" % ("acc", 0.87654)`, "acc=0.88"},
		{`"%(name)s is %(v).1f" % {"name": "x", "v": 2.25}`, "x is 2.2"},
		{`"%s" % [1, 2]`, "[1, 2]"},
		{`str(7 % 3) + str(7.5 % 2)`, "11.5"},
	}
	for _, tt := range tests {
		got, err := evalFormat(t, "x = "+tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestPercentFormattingInFunctionsAndAugmented(t *testing.T) {
	got, err := evalFormat(t, "def f(v):\n    s = \"%.2f\"\n    s %= v\n    return s\nx = f(1.0/3) + \"|\" + \"%6.1f\" % 2")
	if err != nil {
		t.Fatal(err)
	}
	if got != "0.33|   2.0" {
		t.Errorf("got %q", got)
	}
}

func TestPercentFormattingErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`"%d %d" % 1`, "not enough arguments"},
		{`"%d" % (1, 2)`, "too many arguments"},
		{`"%.2f" % "a"`, "requires a number"},
		{`"%*d" % (3, 4)`, "not supported"},
		{`"%q" % 1`, "unknown conversion %q"},
		{`"%(k)s" % 1`, "requires a mapping"},
		{`"%c" % "ab"`, "single-character"},
	}
	for _, tt := range tests {
		_, err := evalFormat(t, "x = "+tt.expr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.expr, err, tt.want)
		}
	}
}
