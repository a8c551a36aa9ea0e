// The AI SDK's own client against the studio's chat stream: DefaultChatTransport sends the
// request (as useChat does) and readUIMessageStream builds the assistant message from the UI
// Message Stream. Run by tests/chat/test_ai_sdk_client.py with STUDIO_URL and STUDIO_API_KEY
// pointing at a live server with a worker; prints a JSON summary line for the Python side.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DefaultChatTransport, readUIMessageStream } from 'ai';

const BASE = process.env.STUDIO_URL;
const KEY = process.env.STUDIO_API_KEY;
const SEED = 'make a cozy cabin sticker and put it on a mug';

const transport = new DefaultChatTransport({
  api: `${BASE}/ai-generations/chat/stream`,
  headers: { 'x-api-key': KEY },
});

async function send(chatId, messages) {
  const stream = await transport.sendMessages({
    chatId,
    messages,
    trigger: 'submit-message',
    messageId: undefined,
    abortSignal: undefined,
  });
  let message;
  const errors = [];
  for await (const snapshot of readUIMessageStream({
    stream,
    onError: (error) => errors.push(String(error)),
  })) {
    message = snapshot;
  }
  assert.deepEqual(errors, []);
  return message;
}

const textOf = (message) =>
  message.parts.filter((p) => p.type === 'text').map((p) => p.text).join(' ');
const toolsOf = (message) => message.parts.filter((p) => p.type.startsWith('tool-'));
const dataOf = (message, name) => message.parts.find((p) => p.type === `data-${name}`)?.data;

async function assertImage(url, mediaType) {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  assert.equal(response.headers.get('content-type'), mediaType);
  const bytes = new Uint8Array(await response.arrayBuffer());
  assert.ok(bytes.length > 1000);
  return bytes;
}

test('the seed request and a follow-up, through the AI SDK client', async () => {
  const user = { id: 'u1', role: 'user', parts: [{ type: 'text', text: SEED }] };
  const reply = await send('node-chat-1', [user]);

  assert.equal(reply.role, 'assistant');
  assert.match(reply.id, /^[0-9a-f-]{36}$/);
  assert.match(textOf(reply), /^I'll make a cozy cabin sticker/);
  assert.match(textOf(reply), /This cost 3¢\.$/);
  for (const part of reply.parts.filter((p) => p.type === 'text')) {
    assert.equal(part.state, 'done');
  }

  const tools = toolsOf(reply);
  assert.deepEqual(
    tools.map((p) => p.type),
    ['tool-generate_image', 'tool-remove_background', 'tool-build_mockup'],
  );
  for (const tool of tools) assert.equal(tool.state, 'output-available');
  assert.equal(tools[0].input.prompt, 'cozy cabin sticker');
  const art = tools[0].output.images[0];
  const cutout = tools[1].output.image;
  assert.equal(tools[0].output.costCents, 1);
  assert.equal(tools[1].input.imageId, art.id);
  assert.equal(tools[2].input.product, 'mug');
  assert.equal(tools[2].input.imageId, cutout.id);

  const files = reply.parts.filter((p) => p.type === 'file');
  assert.deepEqual(files.map((p) => p.mediaType), ['image/png', 'image/png', 'image/jpeg']);
  assert.equal(files[0].url, art.imageUrl);
  await assertImage(art.imageUrl, 'image/png');
  await assertImage(cutout.imageUrl, 'image/png');

  const mockup = dataOf(reply, 'mockup');
  assert.equal(mockup.product, 'mug');
  assert.equal(mockup.url, files[2].url);
  assert.equal(mockup.url, tools[2].output.url);
  const jpeg = await assertImage(mockup.url, 'image/jpeg');
  assert.deepEqual([...jpeg.slice(0, 2)], [0xff, 0xd8]);
  assert.equal(dataOf(reply, 'stage').stage, 'done');
  assert.equal(reply.metadata.costCents, 3);

  // A follow-up in the same chat: the design is reused, nothing is generated or charged.
  const next = { id: 'u2', role: 'user', parts: [{ type: 'text', text: 'now on a hoodie' }] };
  const follow = await send('node-chat-1', [user, reply, next]);
  assert.deepEqual(toolsOf(follow).map((p) => p.type), ['tool-build_mockup']);
  const hoodie = dataOf(follow, 'mockup');
  assert.equal(hoodie.product, 'hoodie');
  assert.equal(hoodie.imageId, cutout.id);
  await assertImage(hoodie.url, 'image/jpeg');
  assert.equal(follow.metadata.costCents, 1);
  assert.equal(follow.metadata.conversationId, reply.metadata.conversationId);

  console.log(
    `SUMMARY ${JSON.stringify({
      text: textOf(reply),
      tools: tools.map((p) => p.type),
      mockup: mockup.url,
      followMockup: hoodie.url,
      conversationId: reply.metadata.conversationId,
    })}`,
  );
});
