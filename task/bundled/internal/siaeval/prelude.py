#!/usr/bin/env python3
# Written by sia (`sia data export-sia`) for this task. It follows SIA's
# evaluator contract: run as `evaluate.py --gen-dir G` (or --submission F),
# it reads the gold of data/private/ relative to its own path, finds the
# submission in G, and writes G/results.json as
#   {"summary": {..., "accuracy": x}, "items": [{"id", "status", "output", "detail"}]}
# with no gold answer in it. It scores exactly as sia's Go verifier for the
# task does (the project's tests compare the two on the same submissions).
# Standard library only.

import argparse
import csv
import decimal
import io
import json
import math
import re
import sys
from pathlib import Path

PRIVATE = Path(__file__).resolve().parent.parent / "private"

# Go's unicode.IsSpace, so that trimming agrees with strings.TrimSpace.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

STATUS = {"correct": "CORRECT", "wrong": "WRONG", "invalid": "INVALID", "missing": "MISSING", "error": "ERROR"}


def go_trim(s):
    return s.strip(GO_SPACE)


def go_g(x):
    """A float as Go's strconv.FormatFloat(x, 'g', -1, 64) writes it."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1, x) < 0 else "0"
    d = decimal.Decimal(repr(x)).normalize()
    sign, digits, exp = d.as_tuple()
    ds = "".join(map(str, digits))
    nd, dp = len(ds), len(ds) + exp
    neg = "-" if sign else ""
    e = dp - 1
    if e < -4 or e >= 6:
        mant = ds[0] + ("." + ds[1:] if nd > 1 else "")
        return "%s%se%s%02d" % (neg, mant, "-" if e < 0 else "+", abs(e))
    if dp <= 0:
        return neg + "0." + "0" * (-dp) + ds
    if dp >= nd:
        return neg + ds + "0" * (dp - nd)
    return neg + ds[:dp] + "." + ds[dp:]


def go_scalar(v):
    """A JSON value as sia's loader renders it (scalarString): strings as
    they are, integral numbers without a decimal point, null as empty,
    anything else as compact JSON."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        f = float(v)
        if not math.isinf(f) and not math.isnan(f) and f == math.floor(f) and -2**63 <= f < 2**63:
            return str(int(f))
        return go_g(f)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def no_constants(name):
    raise ValueError("not JSON: " + name)


def load_json(text):
    return json.loads(text, parse_constant=no_constants)


def read_text(path):
    text = path.read_text(encoding="utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def read_csv(path):
    """Header and rows of a CSV, every row as wide as the header."""
    rows = list(csv.reader(io.StringIO(read_text(path), newline="")))
    if not rows:
        raise ValueError("%s: empty CSV (no header)" % path.name)
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(rows[0]):
            raise ValueError("%s line %d: wrong number of fields" % (path.name, i))
    return rows[0], rows[1:]


def read_records(path):
    """Records of a CSV, JSON (array of objects) or JSONL file."""
    ext = path.suffix.lower()
    if ext == ".csv":
        head, rows = read_csv(path)
        return [dict(zip(head, r)) for r in rows]
    text = read_text(path)
    if ext == ".jsonl":
        out = [load_json(line) for line in text.split("\n") if line.strip(GO_SPACE)]
        if not all(isinstance(e, dict) for e in out):
            raise ValueError("%s: every line must be a JSON object" % path.name)
        return out
    v = load_json(text)
    if isinstance(v, dict):
        out = []
        for k in sorted(v):
            e = v[k]
            if isinstance(e, dict):
                e = dict(e)
                e.setdefault("id", k)
                out.append(e)
            else:
                out.append({"id": k, "label": e})
        return out
    if not isinstance(v, list) or not all(isinstance(e, dict) for e in v):
        raise ValueError("%s: want a JSON array of objects" % path.name)
    return v


def parse_generic(path, id_key, label_key):
    """Answers by id as sia's generic submission reader gets them: a CSV
    with an id column and the first of the label, "answer", "prediction"
    and "solution" columns; JSON as an object id -> answer, or records with
    the id and the first of "answer", the label, "prediction", "solution";
    JSONL records."""
    ext = path.suffix.lower()
    if ext == ".csv":
        head, rows = read_csv(path)
        id_col = ans_col = -1
        for i, h in enumerate(head):
            if h == id_key:
                id_col = i
            elif ans_col < 0 and h in (label_key, "answer", "prediction", "solution"):
                ans_col = i
        if id_col < 0:
            raise ValueError("%s: no %r column" % (path.name, id_key))
        if ans_col < 0:
            raise ValueError("%s: no %r or \"answer\" column" % (path.name, label_key))
        return {r[id_col]: r[ans_col] for r in rows}
    if ext in (".json", ".jsonl"):
        text = read_text(path)
        stripped = text.strip(" \t\r\n")
        if stripped.startswith("{"):
            try:
                obj = load_json(stripped)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                return {k: go_scalar(v) for k, v in obj.items()}
        out = {}
        for i, r in enumerate(read_records(path), start=1):
            if id_key not in r:
                raise ValueError("%s: record %d has no %r" % (path.name, i, id_key))
            ans = next((r[k] for k in ("answer", label_key, "prediction", "solution") if k in r), None)
            out[go_scalar(r[id_key])] = go_scalar(ans)
        return out
    raise ValueError("%s: submission must be .csv or .json" % path.name)


def find_submission(gen_dir, names):
    for name in names:
        p = gen_dir / name
        if p.is_file():
            return p
    for p in sorted(gen_dir.iterdir()):
        if p.is_file() and p.name != "results.json" and p.suffix.lower() in (".csv", ".json", ".jsonl"):
            return p
    return None


def verdict(status, reward=0.0, detail=""):
    return {"status": status, "reward": reward, "detail": detail}


def run(gold, parse, score_item, aggregate, submission_names):
    """The command line: score the submission against gold (id -> label,
    in file order) and write results.json."""
    ap = argparse.ArgumentParser(description="Score a submission for this task and write results.json (SIA's evaluator contract).")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--gen-dir", type=Path, help="generation folder holding the submission")
    group.add_argument("--submission", type=Path, help="the submission file itself")
    ap.add_argument("--output", type=Path, help="where to write results.json (default: GEN_DIR/results.json)")
    args = ap.parse_args()
    if args.submission is not None:
        sub = args.submission
    else:
        sub = find_submission(args.gen_dir, submission_names)
        if sub is None:
            sys.exit("no submission in %s (looked for %s)" % (args.gen_dir, ", ".join(submission_names)))
    answers = parse(sub)
    items, verdicts = [], []
    for gid in sorted(gold, key=str):
        key = go_scalar(gid)
        g = gold[gid]
        if key not in answers:
            v = verdict("missing", detail="no answer")
            out = None
        else:
            out = answers[key]
            v = score_item(out, g)
        verdicts.append((key, g, v))
        items.append({"id": gid, "status": STATUS[v["status"]], "output": out, "detail": v["detail"]})
    n = len(verdicts)
    summary = {"total": n}
    for s in STATUS:
        summary[s] = sum(1 for _, _, v in verdicts if v["status"] == s)
    summary["mean_reward"] = sum(v["reward"] for _, _, v in verdicts) / n if n else 0.0
    summary["accuracy"] = summary["mean_reward"]
    summary["extra_predictions"] = len(set(answers) - {k for k, _, _ in verdicts})
    summary.update(aggregate(verdicts))
    out_path = args.output or ((args.gen_dir if args.gen_dir is not None else sub.parent) / "results.json")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"summary": summary, "items": items}, f, indent=2, ensure_ascii=False)
    print("accuracy %.4f over %d items (%s)" % (summary["accuracy"], n, ", ".join("%s %d" % (s, summary[s]) for s in STATUS)))
