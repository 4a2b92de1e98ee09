// The official openai package, unchanged, against ChatBlazor's /v1. OpenAiSdkTests.cs starts the app and passes:
// CHATBLAZOR_API_BASE (…/v1), CHATBLAZOR_API_KEY (a Free-plan key), CHATBLAZOR_TINY_KEY (a key on a plan of 2
// requests a minute) and CHATBLAZOR_MODEL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.CHATBLAZOR_API_BASE;
const model = process.env.CHATBLAZOR_MODEL;
// No retries: the SDK would otherwise wait out a 429's Retry-After and try again.
const client = (apiKey) => new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const hello = { model, messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 24 };

test('lists the models', async () => {
  const models = [];
  for await (const m of client(process.env.CHATBLAZOR_API_KEY).models.list()) models.push(m.id);
  assert.ok(models.includes(model), `models: ${models}`);
});

test('a chat completion with usage', async () => {
  const completion = await client(process.env.CHATBLAZOR_API_KEY).chat.completions.create(hello);
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.ok(completion.choices[0].message.content.length > 0);
  assert.ok(['stop', 'length'].includes(completion.choices[0].finish_reason));
  assert.ok(completion.usage.prompt_tokens > 0);
  assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
});

test('a streamed chat completion ends with usage', async () => {
  const stream = await client(process.env.CHATBLAZOR_API_KEY).chat.completions.create({ ...hello, stream: true, stream_options: { include_usage: true } });
  let text = '', usage = null, finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish ??= chunk.choices[0]?.finish_reason ?? null;
    usage ??= chunk.usage ?? null;
  }
  assert.ok(text.length > 0);
  assert.ok(finish);
  assert.ok(usage && usage.completion_tokens > 0);
});

test("the SDK's stream helper reads our SSE to the end", async () => {
  const runner = client(process.env.CHATBLAZOR_API_KEY).chat.completions.stream(hello);
  let deltas = '';
  runner.on('content', (delta) => { deltas += delta; });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, deltas);
  assert.ok(final.choices[0].finish_reason);
});

test('moderations: a string and an array, every category in both maps', async () => {
  const one = await client(process.env.CHATBLAZOR_API_KEY).moderations.create({ input: 'How do I kill a python process?' });
  assert.match(one.id, /^modr-/);
  assert.equal(one.model, 'chatblazor-moderation');
  assert.equal(one.results.length, 1);
  assert.equal(one.results[0].flagged, false);
  for (const name of ['harassment', 'self-harm/intent', 'sexual/minors', 'violence/graphic', 'illicit/violent', 'pii', 'jailbreak']) {
    assert.equal(typeof one.results[0].categories[name], 'boolean', name);
    assert.equal(typeof one.results[0].category_scores[name], 'number', name);
  }
  const many = await client(process.env.CHATBLAZOR_API_KEY).moderations.create({ model: 'omni-moderation-latest', input: ['first', 'second'] });
  assert.equal(many.results.length, 2);
  await assert.rejects(client(process.env.CHATBLAZOR_API_KEY).moderations.create({ input: [] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'input');
});

test('a bad key is an AuthenticationError', async () => {
  await assert.rejects(client('cb-wrong').chat.completions.create(hello), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError, e.constructor.name);
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_api_key');
    return true;
  });
});

test('an exhausted plan is a RateLimitError', async () => {
  const tiny = client(process.env.CHATBLAZOR_TINY_KEY);
  await tiny.chat.completions.create(hello);
  await tiny.chat.completions.create(hello);
  await assert.rejects(tiny.chat.completions.create(hello), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, e.constructor.name);
    assert.equal(e.status, 429);
    assert.match(e.message, /requests per minute/);
    assert.ok(Number(e.headers.get('retry-after')) >= 1);
    return true;
  });
});
