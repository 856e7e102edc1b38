"""GPQA Diamond: accuracy of chosen option letters over every question.

Scored as sia's Go verifier (task/bundled/gpqa) scores it: the letter is a
bare letter (perhaps decorated: "(C)", "C.", "**C**"), else the last JSON
{"answer": "C"}, else the last \\boxed{C}, else the last explicit "answer
is C" / "Answer: C", else a last line starting "C)"; no letter is invalid.
accuracy = correct / every question (missing and invalid count as wrong);
sia_accuracy = correct / (correct + wrong) is the figure SIA's own
evaluator reports.
"""

GOLD_FILE = PRIVATE / "diamond_questions.json"
LABEL = "correct_answer_letter"
META_KEYS = {"model", "dataset_config", "timestamp", "total_questions", "correct", "incorrect", "accuracy",
             "total_cost_usd", "total_input_tokens", "total_output_tokens", "total_reasoning_tokens"}

# The Go verifier's patterns; \s there is [\t\n\f\r ] and \b is ASCII.
S = r"[\t\n\f\r ]"
BARE = re.compile(r"^[\t\n\f\r *_\"'(\[{]*([A-Da-d])[\t\n\f\r *_\"')\]}.:]*\Z")
STATED = re.compile(r"(?:answer|choice|option|solution)" + S + r"*(?:is|:|=|would be|should be)?" + S +
                    r"*(?:option|choice)?" + S + r"*[*_\"'(\[{]*" + S + r"*([A-D])\b", re.IGNORECASE | re.ASCII)
BOXED = re.compile(r"\\boxed" + S + r"*\{" + S + r"*(?:\\text" + S + r"*\{" + S + r"*)?\(?([A-D])\)?" + S +
                   r"*\}?" + S + r"*\}")
JSON_ANSWER = re.compile(r"\{[^{}]*\"answer\"" + S + r"*:" + S + r"*\"" + S + r"*\(?([A-Da-d])\)?" + S +
                         r"*\"[^{}]*\}")
LAST_LINE = re.compile(r"^\(?([A-D])[).:]")


def extract_letter(s):
    s = go_trim(s)
    m = BARE.match(s)
    if m:
        return m.group(1).upper()
    for rx, up in ((JSON_ANSWER, True), (BOXED, False), (STATED, False)):
        found = rx.findall(s)
        if found:
            return found[-1].upper() if up else found[-1]
    m = LAST_LINE.match(go_trim(s.split("\n")[-1]))
    return m.group(1) if m else ""


def load_gold():
    rows = read_records(GOLD_FILE)
    return {r["id"]: r[LABEL] for r in rows if "id" in r and LABEL in r}


def parse(path):
    """The JSON shapes SIA's gpqa evaluator reads ({"details": [...]},
    {"answers": {...}}, a flat {id: answer}), arrays of records with the id
    and the answer (or correct_answer_letter), and CSV with id and answer."""
    if path.suffix.lower() != ".json":
        return parse_generic(path, "id", "answer")
    try:
        top = load_json(read_text(path))
    except ValueError:
        top = None
    if not isinstance(top, dict):
        return parse_generic(path, "id", LABEL)
    out = {}
    if "details" in top:
        for d in top["details"] or []:
            if d is None:
                continue
            if not isinstance(d, dict):
                raise ValueError("%s: \"details\" is not a list of objects" % path.name)
            if d.get("question_id") is not None:
                out[go_scalar(d["question_id"])] = go_scalar(d.get("model_answer"))
    elif "answers" in top:
        if top["answers"] is None:
            return out
        if not isinstance(top["answers"], dict):
            raise ValueError("%s: \"answers\" is not an object" % path.name)
        for k, v in top["answers"].items():
            out[go_trim(k)] = go_scalar(v)
    else:
        for k, v in top.items():
            if k in META_KEYS or isinstance(v, dict):
                continue
            out[go_trim(k)] = go_scalar(v)
    return out


def score_item(answer, gold):
    letter = extract_letter(answer)
    if letter == "":
        return verdict("invalid", detail="no option letter A-D found")
    ok = letter == go_trim(gold).upper()
    return verdict("correct" if ok else "wrong", 1.0 if ok else 0.0, "parsed letter " + letter)


def aggregate(verdicts):
    correct = sum(1 for _, _, v in verdicts if v["status"] == "correct")
    wrong = sum(1 for _, _, v in verdicts if v["status"] == "wrong")
    out = {"correct": correct, "attempted": correct + wrong, "total": len(verdicts)}
    if correct + wrong:
        out["sia_accuracy"] = correct / (correct + wrong)
        out["sia_accuracy_percent"] = 100 * out["sia_accuracy"]
    return out


def main():
    run(load_gold(), parse, score_item, aggregate, ["submission.json", "submission.csv", "submission.jsonl"])
