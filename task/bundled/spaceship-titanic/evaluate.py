"""Spaceship Titanic: accuracy of predicted Transported values.

Scored as sia's Go verifier (task/bundled/spaceship-titanic) scores it: a
boolean in SIA's spellings (true/t/1/yes/y, false/f/0/no/n, any case,
around spaces) that matches the gold is correct; any other value is
invalid; a passenger without a prediction is missing. accuracy = correct /
all passengers of data/private/test.csv.
"""

GOLD_FILE = PRIVATE / "test.csv"
ID, LABEL = "PassengerId", "Transported"
TRUE = {"true", "t", "1", "yes", "y"}
FALSE = {"false", "f", "0", "no", "n"}


def parse_bool(s):
    v = go_trim(s).lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    return None


def load_gold():
    head, rows = read_csv(GOLD_FILE)
    if ID not in head or LABEL not in head:
        raise ValueError("%s needs the columns %s and %s" % (GOLD_FILE.name, ID, LABEL))
    i, j = head.index(ID), head.index(LABEL)
    return {r[i]: r[j] for r in rows}


def score_item(answer, gold):
    a = parse_bool(answer)
    if a is None:
        return verdict("invalid", detail="not a boolean (want True/False, t/f, yes/no, y/n or 1/0)")
    g = parse_bool(gold)
    if g is None:
        return verdict("error", detail="gold label is not a boolean")
    return verdict("correct", 1.0) if a == g else verdict("wrong")


def main():
    run(load_gold(), lambda p: parse_generic(p, ID, LABEL), score_item, lambda v: {},
        ["submission.csv", "submission.json", "submission.jsonl"])
