import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitLinks } from './linkify';

test('http and https URLs become links and the text around them stays text', () => {
  assert.deepEqual(splitLinks('see https://example.com/a?b=1 and http://x.org.'), [
    { kind: 'text', text: 'see ' },
    { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
    { kind: 'text', text: ' and ' },
    { kind: 'link', text: 'http://x.org', href: 'http://x.org/' },
    { kind: 'text', text: '.' },
  ]);
});

test('javascript:, data: and other schemes never become links', () => {
  for (const text of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'ftp://example.com/file']) {
    assert.deepEqual(splitLinks(text), [{ kind: 'text', text }]);
  }
});

test('markup next to a URL is not part of the link', () => {
  assert.deepEqual(splitLinks('<a href="https://evil.example/">x</a>'), [
    { kind: 'text', text: '<a href="' },
    { kind: 'link', text: 'https://evil.example/', href: 'https://evil.example/' },
    { kind: 'text', text: '">x</a>' },
  ]);
});

test('text without URLs is one text part, and empty text is none', () => {
  assert.deepEqual(splitLinks('<img src=x onerror=alert(1)>'), [{ kind: 'text', text: '<img src=x onerror=alert(1)>' }]);
  assert.deepEqual(splitLinks(''), []);
});
