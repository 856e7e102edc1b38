"""LawBench charge prediction: top-1 accuracy over every case.

Scored as sia's Go verifier (task/bundled/lawbench) scores it: both sides
lose CAIL2018's grouping brackets ([ ] and full-width ［ ］) and surrounding
spaces, then must be the same string; an empty answer is invalid; a case
without a prediction is missing. Besides accuracy, n_correct, n_total and
per_class/<charge> (accuracy per gold charge) as SIA reports.
"""

GOLD_FILE = PRIVATE / "test.csv"


def normalize(s):
    s = go_trim(s)
    for b in ("[", "]", "\uff3b", "\uff3d"):
        s = s.replace(b, "")
    return s


def load_gold():
    head, rows = read_csv(GOLD_FILE)
    if "id" not in head or "label" not in head:
        raise ValueError("%s needs the columns id and label" % GOLD_FILE.name)
    i, j = head.index("id"), head.index("label")
    return {r[i]: r[j] for r in rows}


def parse(path):
    """submission.csv: an "id" column and the "label" column, else the last
    column; JSON submissions as the generic reader."""
    if path.suffix.lower() != ".csv":
        return parse_generic(path, "id", "label")
    head, rows = read_csv(path)
    id_col, lab_col = -1, len(head) - 1
    for i, h in enumerate(head):
        if go_trim(h) == "id":
            id_col = i
        elif go_trim(h) == "label":
            lab_col = i
    if id_col < 0:
        raise ValueError("%s: no \"id\" column" % path.name)
    if lab_col == id_col:
        raise ValueError("%s: no label column besides \"id\"" % path.name)
    return {r[id_col]: r[lab_col] for r in rows}


def score_item(answer, gold):
    a = normalize(answer)
    if a == "":
        return verdict("invalid", detail="empty answer")
    return verdict("correct", 1.0) if a == normalize(gold) else verdict("wrong")


def aggregate(verdicts):
    per = {}
    for _, g, v in verdicts:
        c = normalize(g)
        ok, n = per.get(c, (0, 0))
        per[c] = (ok + (v["status"] == "correct"), n + 1)
    out = {"n_correct": sum(1 for _, _, v in verdicts if v["status"] == "correct"), "n_total": len(verdicts)}
    for c in sorted(per):
        ok, n = per[c]
        out["per_class/" + c] = ok / n
    return out


def main():
    run(load_gold(), parse, score_item, aggregate, ["submission.csv", "submission.json", "submission.jsonl"])
