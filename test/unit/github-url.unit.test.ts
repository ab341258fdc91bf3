import { describe, expect, test } from '@jest/globals';
import { parseGitHubRepoUrl, parseRepoUrl } from '../../domain/github-url.js';

const policy = {
  hosts: ['github.com', 'ghe.example.com', '127.0.0.1:8787', 'octo.ghe.com', 'octo.ghe.com:8443'],
  httpHosts: ['127.0.0.1:8787'],
};

describe('parseGitHubRepoUrl', () => {
  test.each([
    [
      'https://github.com/acme/search-config',
      {
        url: 'https://github.com/acme/search-config',
        apiBaseUrl: 'https://api.github.com',
        gitUrl: 'https://github.com/acme/search-config.git',
        webUrl: 'https://github.com/acme/search-config',
      },
    ],
    [
      'https://GitHub.com/acme/search.config.git',
      { url: 'https://github.com/acme/search.config', owner: 'acme', repo: 'search.config' },
    ],
    ['https://github.com/acme/cfg/', { url: 'https://github.com/acme/cfg' }],
    [
      'https://ghe.example.com/team/cfg',
      { apiBaseUrl: 'https://ghe.example.com/api/v3', gitUrl: 'https://ghe.example.com/team/cfg.git' },
    ],
    ['http://127.0.0.1:8787/acme/cfg', { host: '127.0.0.1:8787', apiBaseUrl: 'http://127.0.0.1:8787/api/v3' }],
    // GitHub Enterprise Cloud with data residency: github.com's layout on {subdomain}.ghe.com.
    [
      'https://octo.ghe.com/team/cfg',
      { apiBaseUrl: 'https://api.octo.ghe.com', gitUrl: 'https://octo.ghe.com/team/cfg.git' },
    ],
    [
      'https://octo.ghe.com:8443/team/cfg',
      { apiBaseUrl: 'https://api.octo.ghe.com:8443', webUrl: 'https://octo.ghe.com:8443/team/cfg' },
    ],
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

describe('parseRepoUrl: the forge is the one whose list names the host', () => {
  const policies = {
    github: { hosts: ['github.com'], httpHosts: [] },
    gitea: { hosts: ['git.example.com', '127.0.0.1:3000'], httpHosts: ['127.0.0.1:3000'] },
  };

  test.each([
    ['https://github.com/acme/cfg', { provider: 'github', apiBaseUrl: 'https://api.github.com' }],
    [
      'https://git.example.com/acme/cfg.git',
      {
        provider: 'gitea',
        url: 'https://git.example.com/acme/cfg',
        apiBaseUrl: 'https://git.example.com/api/v1',
        gitUrl: 'https://git.example.com/acme/cfg.git',
        origin: 'https://git.example.com',
      },
    ],
    ['http://127.0.0.1:3000/relyloop/cfg', { provider: 'gitea', apiBaseUrl: 'http://127.0.0.1:3000/api/v1' }],
    // Gitea allows `_` and `.` in owner names; GitHub does not.
    ['https://git.example.com/team_a.ops/cfg', { provider: 'gitea', owner: 'team_a.ops' }],
  ])('accepts %s', (input, expected) => {
    expect(parseRepoUrl(input, policies)).toMatchObject(expected);
  });

  test.each([
    ['http://git.example.com/acme/cfg', 'unsupported_provider'], // https only unless listed as http://
    ['https://git.example.com/acme', 'unsupported_provider'],
    ['https://git.example.com/sub/acme/cfg', 'unsupported_provider'], // a server under a sub-path is not supported
    ['https://github.com/team_a/cfg', 'unsupported_provider'],
    ['https://gitlab.com/acme/cfg', 'unsupported_provider'],
    ['https://u:t@git.example.com/acme/cfg', 'invalid'],
  ])('refuses %s as %s', (input, kind) => {
    expect(parseRepoUrl(input, policies)).toMatchObject({ kind });
  });

  test('a Gitea URL names its list in the refusal', () => {
    expect(parseRepoUrl('http://git.example.com/acme/cfg', policies)).toMatchObject({
      message: expect.stringContaining('RELYLOOP_GITEA_HOSTS'),
    });
  });
});
