"""A harness-shaped caller: the OpenAI chat wire over urllib, the way a
target_agent.py without the openai package reaches the gateway. It reads
OPENAI_BASE_URL and OPENAI_API_KEY, tags one call with the user field and
one with the X-SIA-Item header (streaming), and prints both answers."""
import json
import os
import urllib.request

base = os.environ["OPENAI_BASE_URL"].rstrip("/")
key = os.environ["OPENAI_API_KEY"]


def post(body, headers=None):
    req = urllib.request.Request(
        base + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json", **(headers or {})},
    )
    return urllib.request.urlopen(req, timeout=30)


msgs = [{"role": "user", "content": "What is 2+2?"}]
with post({"model": "policy", "messages": msgs, "user": "item=q%2F1;sample=0"}) as r:
    plain = json.load(r)["choices"][0]["message"]["content"]

parts = []
with post({"model": "policy", "messages": msgs, "stream": True}, {"X-SIA-Item": "item=q%2F1;sample=1"}) as r:
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: "):
            continue
        data = line[len("data: "):]
        if data == "[DONE]":
            break
        for choice in json.loads(data)["choices"]:
            parts.append(choice["delta"].get("content") or "")

print(json.dumps({"plain": plain, "streamed": "".join(parts)}))
