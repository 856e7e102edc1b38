// Drives sia's gateway with the official OpenAI Node client. Run by
// e2e/gateway_node_test.go, which starts the gateways and checks what their
// upstream received. Prints one JSON line per case: {"case", "ok", ...}.
import OpenAI from "openai";

const forward = new OpenAI({ baseURL: process.env.FORWARD_URL, apiKey: process.env.FORWARD_KEY, maxRetries: 0 });
const refuse = new OpenAI({ baseURL: process.env.REFUSE_URL, apiKey: process.env.REFUSE_KEY, maxRetries: 0 });

const image = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const audio = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

// Every field an upstream accepts, on one request.
const full = {
  model: "policy",
  messages: [
    { role: "developer", content: "Answer in JSON." },
    {
      role: "user",
      content: [
        { type: "text", text: "What is in this picture, and what does the clip say?" },
        { type: "image_url", image_url: { url: image, detail: "low" } },
        { type: "input_audio", input_audio: { data: audio, format: "wav" } },
      ],
    },
  ],
  response_format: {
    type: "json_schema",
    json_schema: { name: "answer", strict: true, schema: { type: "object", properties: { what: { type: "string" } }, required: ["what"], additionalProperties: false } },
  },
  tool_choice: "none",
  tools: [{ type: "function", function: { name: "lookup", description: "look a word up", parameters: { type: "object", properties: { q: { type: "string" } } } } }],
  parallel_tool_calls: false,
  logprobs: true,
  top_logprobs: 2,
  presence_penalty: 0.5,
  frequency_penalty: -0.5,
  seed: 42,
  stop: ["END", "STOP"],
  logit_bias: { "50256": -100 },
  n: 2,
  temperature: 0.3,
  top_p: 0.9,
  max_completion_tokens: 64,
  reasoning_effort: "low",
  service_tier: "default",
  store: false,
  metadata: { suite: "e2e" },
  prompt_cache_key: "sia-e2e",
  safety_identifier: "hashed-user",
  verbosity: "low",
  user: "item=q7;sample=1",
};

async function run(name, fn) {
  try {
    const out = await fn();
    console.log(JSON.stringify({ case: name, ok: true, ...out }));
  } catch (e) {
    console.log(JSON.stringify({ case: name, ok: false, status: e.status ?? null, type: e.type ?? null, code: e.code ?? null, param: e.param ?? null, message: String(e.message) }));
  }
}

await run("full", async () => {
  const r = await forward.chat.completions.create(full);
  return {
    choices: r.choices.length,
    content: r.choices[0].message.content,
    top: r.choices[0].logprobs?.content?.[0]?.top_logprobs?.map((t) => [t.token, t.logprob]) ?? null,
    usage: r.usage?.total_tokens ?? null,
  };
});

await run("full-stream", async () => {
  const stream = await forward.chat.completions.create({ ...full, n: 1, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let usage = null;
  let top = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.delta?.content ?? "";
      const lp = c.logprobs?.content?.[0]?.top_logprobs;
      if (lp && !top) top = lp.map((t) => [t.token, t.logprob]);
    }
    if (chunk.usage) usage = chunk.usage.total_tokens;
  }
  return { content: text, top, usage };
});

await run("tool-choice-function", async () => {
  const r = await forward.chat.completions.create({
    model: "policy",
    messages: [{ role: "user", content: "define 'gateway'" }],
    tools: full.tools,
    tool_choice: { type: "function", function: { name: "lookup" } },
  });
  const call = r.choices[0].message.tool_calls?.[0];
  return { finish: r.choices[0].finish_reason, tool: call?.function?.name ?? null, args: call?.function?.arguments ?? null };
});

// The same fields against a task model that cannot honour them.
for (const [name, extra] of [
  ["refuse-response_format", { response_format: { type: "json_object" } }],
  ["refuse-tool_choice", { tool_choice: "required" }],
  ["refuse-presence_penalty", { presence_penalty: 1 }],
  ["refuse-frequency_penalty", { frequency_penalty: 1 }],
  ["refuse-logit_bias", { logit_bias: { "1": 5 } }],
  ["refuse-parallel_tool_calls", { parallel_tool_calls: true }],
  ["refuse-top_logprobs", { logprobs: true, top_logprobs: 3 }],
  ["refuse-image", { messages: [{ role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: image } }] }] }],
  ["refuse-audio-output", { modalities: ["text", "audio"], audio: { voice: "alloy", format: "wav" } }],
]) {
  await run(name, async () => {
    await refuse.chat.completions.create({ model: "policy", messages: [{ role: "user", content: "hi" }], ...extra });
    return {};
  });
}
