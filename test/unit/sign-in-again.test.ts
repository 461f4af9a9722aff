import { describe, expect, it } from 'vitest';
import { signInsToRestore } from '../../src/api/sign-in-again.js';

describe('signing in again', () => {
  it('restores exactly the sign-in that ended', () => {
    expect(signInsToRestore('qonto')).toEqual(['qonto']);
    expect(signInsToRestore('microsoft')).toEqual(['microsoft']);
  });

  it('moves the Microsoft sign-in when nothing ended, and both when it is not known which did', () => {
    expect(signInsToRestore(null)).toEqual(['microsoft']);
    expect(signInsToRestore('unknown')).toEqual(['microsoft', 'qonto']);
  });
});
