import { describe, expect, it } from 'vitest';
import { allowedMethods } from '../../src/api/method-not-allowed.js';

const routes = [
  { method: 'ALL', path: '*' },
  { method: 'GET', path: '/api/integrations' },
  { method: 'POST', path: '/api/integrations' },
  { method: 'GET', path: '/api/integrations/:id' },
  { method: 'PATCH', path: '/api/integrations/:id' },
  { method: 'POST', path: '/api/integrations/:id/sync' },
  { method: 'GET', path: '/assets/app.css' },
];

describe('allowedMethods', () => {
  it('lists the methods of the routes matching a path, HEAD with GET, middleware left out', () => {
    expect(allowedMethods(routes, '/api/integrations')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods(routes, '/api/integrations/abc')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(allowedMethods(routes, '/api/integrations/abc/sync')).toEqual(['POST']);
  });

  it('matches parameters within one segment and literal dots only', () => {
    expect(allowedMethods(routes, '/api/integrations/a/b')).toEqual([]);
    expect(allowedMethods(routes, '/assets/appXcss')).toEqual([]);
    expect(allowedMethods(routes, '/nothing')).toEqual([]);
  });
});
