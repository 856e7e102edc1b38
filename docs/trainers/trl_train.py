"""sia external trainer: TRL SFT / DPO and an offline policy-gradient loop.

Written for TRL 1.16.0, PEFT 0.21.2, transformers 5.23.0, accelerate 1.15.0.
Reads sia's data.jsonl + config.json, writes a PEFT adapter to --out.
See docs/trainers/trl.md. Not exercised by sia's CI (needs a GPU).
"""
import argparse
import json
import os

import torch
from datasets import Dataset
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer


def load(args):
    with open(args.config) as f:
        cfg = json.load(f)
    with open(args.data) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    return cfg, lines


def peft_model(cfg, parent):
    model = AutoModelForCausalLM.from_pretrained(cfg["base_model"], torch_dtype=torch.bfloat16)
    if parent:
        return PeftModel.from_pretrained(model, parent, is_trainable=True)
    lora = cfg["lora"]
    return get_peft_model(model, LoraConfig(
        r=lora["r"], lora_alpha=lora["lora_alpha"], target_modules=lora["target_modules"],
        lora_dropout=0.0, bias="none", task_type="CAUSAL_LM"))


def sft(cfg, lines, model, tok, out):
    from trl import SFTConfig, SFTTrainer
    rows = [{"prompt": l["messages"], "completion": [{"role": "assistant", "content": l["completion"]}]}
            for l in lines if l["type"] == "sample" and l.get("weight", 0) > 0]
    h = cfg["hyper"]
    args = SFTConfig(output_dir=out + "/.trl", num_train_epochs=h["epochs"], learning_rate=h["learning_rate"],
                     per_device_train_batch_size=h["batch_size"], save_strategy="no", report_to=[])
    SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok).train()


def dpo(cfg, lines, model, tok, out):
    from trl import DPOConfig, DPOTrainer
    rows = [{"prompt": l["messages"],
             "chosen": [{"role": "assistant", "content": l["chosen"]}],
             "rejected": [{"role": "assistant", "content": l["rejected"]}]}
            for l in lines if l["type"] == "pair"]
    h = cfg["hyper"]
    args = DPOConfig(output_dir=out + "/.trl", beta=h["dpo_beta"], num_train_epochs=h["epochs"],
                     learning_rate=h["learning_rate"], per_device_train_batch_size=h["batch_size"],
                     rpo_alpha=h.get("dpo_nll") or None,  # sia --dpo-nll: None is plain DPO
                     save_strategy="no", report_to=[])
    DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok).train()


def policy_gradient(cfg, lines, model, out):
    """Importance-sampled policy gradient on the logged tokens, one sequence at a time."""
    h = cfg["hyper"]
    kl_coef = h["kl_coef"] if cfg["algorithm"] == "reinforce_kl" else 0.0
    samples = [l for l in lines if l["type"] == "sample" and
               (l["advantage"] != 0 or (kl_coef and l.get("ref_logprobs")))]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=h["learning_rate"])
    model.train()
    dev = next(model.parameters()).device
    for _ in range(h["epochs"]):
        for i, s in enumerate(samples):
            seq = torch.tensor([s["prompt_token_ids"] + s["completion_token_ids"]], device=dev)
            p, n = len(s["prompt_token_ids"]), len(s["completion_token_ids"])
            logits = model(input_ids=seq[:, :-1]).logits.float()
            lp = torch.log_softmax(logits, -1).gather(-1, seq[:, 1:, None])[0, p - 1:, 0]
            old = torch.tensor(s["logprobs"], device=dev)
            loss = -(s["advantage"] * torch.exp(lp - old)).sum()
            if kl_coef and s.get("ref_logprobs"):
                loss = loss + kl_coef * (lp - torch.tensor(s["ref_logprobs"], device=dev)).sum()
            (loss / max(n, 1) / h["batch_size"]).backward()
            if (i + 1) % h["batch_size"] == 0 or i + 1 == len(samples):
                opt.step()
                opt.zero_grad()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--parent", default="")
    args = ap.parse_args()
    cfg, lines = load(args)
    torch.manual_seed(cfg["seed"])
    tok = AutoTokenizer.from_pretrained(cfg["base_model"])
    model = peft_model(cfg, args.parent)
    alg = cfg["algorithm"]
    if alg == "best_of_n":
        sft(cfg, lines, model, tok, args.out)
    elif alg == "dpo":
        dpo(cfg, lines, model, tok, args.out)
    elif alg in ("grpo", "reinforce_kl", "entropic"):
        policy_gradient(cfg, lines, model, args.out)
    else:
        raise SystemExit(f"trl_train.py does not train {alg!r}; use docs/trainers/verl-ppo.md for ppo")
    if int(os.environ.get("RANK", "0")) != 0:
        return  # under accelerate/torchrun only rank 0 writes the adapter
    final = os.path.join(args.out, "final")
    model.save_pretrained(final, safe_serialization=True)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"trained_lines": len(lines)}, f)


if __name__ == "__main__":
    main()
