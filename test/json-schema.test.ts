import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { mcpSchema, portableJsonSchema } from '../src/mcp/json-schema.js';

describe('portable JSON Schema', () => {
  it('splits a type array into anyOf branches, keeping annotations outside and constraints inside', () => {
    expect(
      portableJsonSchema({
        type: ['string', 'null'],
        description: 'When it ended',
        maxLength: 30,
        enum: ['a', 'b', null],
      }),
    ).toEqual({
      description: 'When it ended',
      anyOf: [{ type: 'string', maxLength: 30, enum: ['a', 'b'] }, { type: 'null' }],
    });
  });

  it('walks nested properties, items and compositions, and leaves enums, defaults and required alone', () => {
    const out = portableJsonSchema({
      type: 'object',
      required: ['rows'],
      properties: {
        rows: { type: 'array', items: { type: 'object', properties: { n: { type: ['number', 'null'] } } } },
        mode: { default: ['x'], enum: ['x', 'y'] },
      },
    });
    expect(out).toEqual({
      type: 'object',
      required: ['rows'],
      properties: {
        rows: {
          type: 'array',
          items: { type: 'object', properties: { n: { anyOf: [{ type: 'number' }, { type: 'null' }] } } },
        },
        mode: { default: ['x'], enum: ['x', 'y'] },
      },
    });
  });

  it('keeps zod validation and advertises the converted schema without $schema', () => {
    const schema = mcpSchema(z.strictObject({ when: z.string().nullable(), n: z.number().int().min(1) }));
    const std = schema['~standard'];
    expect(std.jsonSchema.input({ target: 'draft-2020-12' })).toEqual({
      type: 'object',
      properties: {
        when: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        n: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
      },
      required: ['when', 'n'],
      additionalProperties: false,
    });
    const ok = std.validate({ when: null, n: 2 });
    expect(ok).toEqual({ value: { when: null, n: 2 } });
    const bad = std.validate({ when: 'x', n: 0, extra: 1 }) as { issues?: unknown[] };
    expect(bad.issues?.length).toBeGreaterThan(0);
  });
});
