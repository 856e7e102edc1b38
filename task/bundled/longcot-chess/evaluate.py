"""LongCoT chess (hard): knight_path answers as integers, best_3_moves
answers as SAN move lists compared move by move.

Scored as sia's Go verifier (task/bundled/longcot-chess) scores it: an
answer's last "solution = ..." is read (else the whole text), trimmed of
backticks, stars and spaces; an integer (218, 218.0) answers knight_path; a
JSON list or a list of SAN-like moves answers best_3_moves, each move
compared without its check or annotation marks (+ # ! ?). accuracy =
correct / every question; sia_accuracy_percent = 100 x correct / answered,
the figure SIA reports.
"""

GOLD_FILE = PRIVATE / "answers.json"
SOLUTION = re.compile(r"solution[\t\n\f\r ]*[=:][\t\n\f\r ]*(\[[^\]]*\]|[^\n]+)", re.IGNORECASE | re.ASCII)
SAN_LIKE = re.compile(r"(?:[NBRQK]?[a-h]?[1-8]?x?[a-h][1-8](?:=?[NBRQ])?|[O0]-[O0](?:-[O0])?|[a-h][1-8][a-h][1-8][nbrq]?)\Z")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
SPECIAL = re.compile(r"[+-]?(?:inf|infinity|nan)\Z", re.IGNORECASE)


def strip_san(s):
    return go_trim(s).rstrip("+#!?")


def go_int(s):
    """strconv.ParseInt(s, 10, 64), then ParseFloat for an integral value."""
    if re.fullmatch(r"[+-]?[0-9]+", s):
        n = int(s)
        if -2**63 <= n < 2**63:
            return n
    if DECIMAL.match(s) or SPECIAL.match(s):
        f = float(s)
        if not math.isinf(f) and not math.isnan(f) and f == math.floor(f) and -2**63 <= f < 2**63:
            return int(f)
    return None


def format_f(x):
    """strconv.FormatFloat(x, 'f', -1, 64)."""
    if x == math.floor(x) and abs(x) < 2**63:
        return str(int(x)) if x != 0 or math.copysign(1, x) > 0 else "-0"
    return format(decimal.Decimal(repr(x)), "f")


def parse_answer(s):
    """(integer, moves): one of them set; raises ValueError for anything
    else."""
    s = go_trim(s)
    found = SOLUTION.findall(s)
    if found:
        s = go_trim(found[-1])
    s = s.strip("`* \t")
    if s == "":
        raise ValueError("empty answer")
    n = go_int(s)
    if n is not None:
        return n, None
    try:
        lst, parsed = load_json(s.replace("'", '"')), True
    except ValueError:
        lst, parsed = None, False
    if parsed and lst is None:
        return None, []  # JSON null: an empty move list, as Go decodes it
    if isinstance(lst, list):
        moves = []
        for v in lst:
            if isinstance(v, str):
                moves.append(go_trim(v))
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                moves.append(format_f(float(v)))
            else:
                raise ValueError("list element is not a move")
        return None, moves
    body = s[1:] if s.startswith("[") else s
    body = body[:-1] if body.endswith("]") else body
    moves = []
    for f in re.split(r"[, \t\n]", body):
        f = f.strip("\"'")
        if f == "":
            continue
        if not SAN_LIKE.match(strip_san(f)):
            raise ValueError("neither an integer nor a move list")
        moves.append(f)
    if not moves:
        raise ValueError("neither an integer nor a move list")
    return None, moves


def load_gold():
    return {go_scalar(r["question_id"]): go_scalar(r["answer"]) for r in read_records(GOLD_FILE)}


def compact(raw):
    """json.Compact: the JSON text without insignificant whitespace."""
    out, in_str, esc = [], False, False
    for ch in raw:
        if in_str:
            out.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            out.append(ch)
        elif ch not in " \t\r\n":
            out.append(ch)
    return "".join(out)


def parse(path):
    """responses.json: a list of {question_id, solution} (or the gold's
    "answer"); the solution as text, or as compact JSON when it is not a
    string. Other files: the generic reader."""
    if path.suffix.lower() != ".json":
        return parse_generic(path, "question_id", "solution")
    text = read_text(path)
    try:
        rows = json.loads(text, parse_constant=no_constants, object_pairs_hook=lambda kv: kv)
    except ValueError:
        rows = None
    if not isinstance(rows, list) or not all(r is None or isinstance(r, list) for r in rows):
        return parse_generic(path, "question_id", "solution")
    out = {}
    for i, pairs in enumerate(rows, start=1):
        r = dict(pairs or [])
        qid = r.get("question_id")
        if not isinstance(qid, str) or qid == "":
            raise ValueError("%s: response %d has no question_id string" % (path.name, i))
        sol = r["solution"] if "solution" in r else r.get("answer")
        if sol is None:
            out[qid] = ""
        elif isinstance(sol, str):
            out[qid] = sol
        else:
            out[qid] = compact(raw_value(text, i - 1))
    return out


def raw_value(text, index):
    """The text of the index-th response's solution (or answer), as written."""
    dec = json.JSONDecoder()
    pos = text.index("[") + 1
    for i in range(index + 1):
        while text[pos] in " \t\r\n,":
            pos += 1
        start = pos
        _, pos = dec.raw_decode(text, pos)
        if i == index:
            return solution_text(text[start:pos])
    raise ValueError("response %d not found" % index)


def solution_text(obj_text):
    dec = json.JSONDecoder()
    pos = obj_text.index("{") + 1
    found = {}
    while True:
        while obj_text[pos] in " \t\r\n,":
            pos += 1
        if obj_text[pos] == "}":
            break
        key, pos = dec.raw_decode(obj_text, pos)
        while obj_text[pos] in " \t\r\n:":
            pos += 1
        start = pos
        _, pos = dec.raw_decode(obj_text, pos)
        found[key] = obj_text[start:pos]
    return found["solution"] if "solution" in found else found["answer"]


def score_item(answer, gold):
    try:
        gn, gm = parse_answer(gold)
    except ValueError:
        return verdict("error", detail="gold answer is unreadable")
    try:
        an, am = parse_answer(answer)
    except ValueError:
        return verdict("invalid", detail="no integer or move list found")
    if gm is None:
        if an is None:
            return verdict("invalid", detail="knight_path wants an integer")
        return verdict("correct", 1.0) if an == gn else verdict("wrong")
    if an is not None:
        return verdict("invalid", detail="best_3_moves wants a list of moves")
    if len(am) != len(gm):
        return verdict("wrong", detail="%d moves given, %d wanted" % (len(am), len(gm)))
    for i, (a, g) in enumerate(zip(am, gm), start=1):
        if strip_san(a) != strip_san(g):
            return verdict("wrong", detail="move %d differs" % i)
    return verdict("correct", 1.0)


def aggregate(verdicts):
    per = {"knight_path": [0, 0], "best_3_moves": [0, 0]}
    correct = answered = 0
    for _, g, v in verdicts:
        tpl = "best_3_moves"
        try:
            if parse_answer(g)[1] is None:
                tpl = "knight_path"
        except ValueError:
            pass
        per[tpl][1] += 1
        if v["status"] != "missing":
            answered += 1
        if v["status"] == "correct":
            per[tpl][0] += 1
            correct += 1
    out = {"correct": correct, "total": len(verdicts)}
    for tpl, (ok, n) in per.items():
        if n:
            out["accuracy_" + tpl] = ok / n
            out["n_" + tpl] = n
    if answered:
        out["sia_accuracy_percent"] = 100 * correct / answered
    return out


def main():
    run(load_gold(), parse, score_item, aggregate, ["submission.json", "responses.json", "submission.csv"])
