package gpqa

import (
	"encoding/json"
	"fmt"
	"strconv"
)

func errorf(file, format string, a ...any) error {
	return fmt.Errorf("%s: %s", file, fmt.Sprintf(format, a...))
}

// scalar renders a JSON value as the answer text: strings as-is, integral
// numbers without a decimal point, null as "".
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
