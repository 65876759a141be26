import { describe, expect, it } from 'vitest';
import {
  InvalidFrameError,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  toJSONRPCMessage,
} from '../../../../src/proxy/wire/json-rpc.js';

const kinds = (value: unknown) =>
  [isJSONRPCRequest, isJSONRPCNotification, isJSONRPCResultResponse, isJSONRPCErrorResponse].filter((is) => is(value)).map((is) => is.name);

describe('JSON-RPC guards', () => {
  it('tell the four kinds of message apart', () => {
    expect(kinds({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toEqual(['isJSONRPCRequest']);
    expect(kinds({ jsonrpc: '2.0', id: 'a', method: 'x', params: { y: 1 } })).toEqual(['isJSONRPCRequest']);
    expect(kinds({ jsonrpc: '2.0', method: 'notifications/initialized' })).toEqual(['isJSONRPCNotification']);
    expect(kinds({ jsonrpc: '2.0', id: 1, result: {} })).toEqual(['isJSONRPCResultResponse']);
    expect(kinds({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'no' } })).toEqual(['isJSONRPCErrorResponse']);
    expect(kinds({ jsonrpc: '2.0', error: { code: -32700, message: 'parse error' } })).toEqual(['isJSONRPCErrorResponse']);
  });

  it('reject what is not JSON-RPC 2.0', () => {
    for (const value of [
      null,
      [],
      'x',
      { id: 1, method: 'x' },
      { jsonrpc: '1.0', id: 1, method: 'x' },
      { jsonrpc: '2.0', id: null, method: 'x' },
      { jsonrpc: '2.0', id: 1, method: 'x', params: [1] },
      { jsonrpc: '2.0', id: 1, result: 'text' },
      { jsonrpc: '2.0', id: 1, error: { message: 'no code' } },
    ]) {
      expect(kinds(value), JSON.stringify(value)).toEqual([]);
      expect(() => toJSONRPCMessage(value)).toThrow(InvalidFrameError);
    }
  });

  it('recognise initialize only as a request with params', () => {
    expect(isInitializeRequest({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } })).toBe(true);
    expect(isInitializeRequest({ jsonrpc: '2.0', method: 'initialize', params: {} })).toBe(false);
    expect(isInitializeRequest({ jsonrpc: '2.0', id: 0, method: 'initialize' })).toBe(false);
  });
});
