import { describe, expect, test } from '@jest/globals';
import { parseGitHubRepoUrl } from '../../domain/github-url.js';

const policy = { hosts: ['github.com', 'ghe.example.com', '127.0.0.1:8787', 'octo.ghe.com', 'octo.ghe.com:8443'], httpHosts: ['127.0.0.1:8787'] };

describe('parseGitHubRepoUrl', () => {
  test.each([
    ['https://github.com/acme/search-config', { url: 'https://github.com/acme/search-config', apiBaseUrl: 'https://api.github.com', gitUrl: 'https://github.com/acme/search-config.git', webUrl: 'https://github.com/acme/search-config' }],
    ['https://GitHub.com/acme/search.config.git', { url: 'https://github.com/acme/search.config', owner: 'acme', repo: 'search.config' }],
    ['https://github.com/acme/cfg/', { url: 'https://github.com/acme/cfg' }],
    ['https://ghe.example.com/team/cfg', { apiBaseUrl: 'https://ghe.example.com/api/v3', gitUrl: 'https://ghe.example.com/team/cfg.git' }],
    ['http://127.0.0.1:8787/acme/cfg', { host: '127.0.0.1:8787', apiBaseUrl: 'http://127.0.0.1:8787/api/v3' }],
    // GitHub Enterprise Cloud with data residency: github.com's layout on {subdomain}.ghe.com.
    ['https://octo.ghe.com/team/cfg', { apiBaseUrl: 'https://api.octo.ghe.com', gitUrl: 'https://octo.ghe.com/team/cfg.git' }],
    ['https://octo.ghe.com:8443/team/cfg', { apiBaseUrl: 'https://api.octo.ghe.com:8443', webUrl: 'https://octo.ghe.com:8443/team/cfg' }],
  ])('accepts %s', (input, expected) => {
    expect(parseGitHubRepoUrl(input, policy)).toMatchObject(expected);
  });

  test.each([
    ['https://gitlab.com/acme/cfg', 'unsupported_provider'],
    ['https://bitbucket.org/acme/cfg', 'unsupported_provider'],
    ['git@github.com:acme/cfg.git', 'unsupported_provider'],
    ['ssh://git@github.com/acme/cfg.git', 'unsupported_provider'],
    ['git://github.com/acme/cfg.git', 'unsupported_provider'],
    ['http://github.com/acme/cfg', 'unsupported_provider'],
    ['http://ghe.example.com/team/cfg', 'unsupported_provider'],
    ['https://github.com/acme', 'unsupported_provider'],
    ['https://github.com/acme/cfg/tree/main', 'unsupported_provider'],
    ['https://github.com/-acme/cfg', 'unsupported_provider'],
    ['https://github.com/acme/..', 'unsupported_provider'],
    ['https://user:ghp_secret@github.com/acme/cfg', 'invalid'],
    ['https://github.com/acme/cfg?ref=main', 'invalid'],
    ['https://github.com/acme/cfg#readme', 'invalid'],
    ['not a url', 'invalid'],
  ])('refuses %s as %s', (input, kind) => {
    expect(parseGitHubRepoUrl(input, policy)).toMatchObject({ kind });
  });
});
