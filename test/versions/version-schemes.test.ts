import test from 'ava';
import { VERSION_SCHEMES } from '../../src/ecosystems/version-scheme.ts';
import { UnknownVersionSchemeError, VERSION_SCHEME_BY_NAME, versionScheme } from '../../src/ecosystems/version-schemes.ts';

test('every scheme name has its scheme, named after it', (t) => {
  t.deepEqual(Object.keys(VERSION_SCHEME_BY_NAME).sort(), [...VERSION_SCHEMES].sort());
  for (const name of VERSION_SCHEMES) {
    t.is(versionScheme(name).name, name);
    t.is(versionScheme(name).compare('1.0.0', '1.0.1'), -1, `${name}: 1.0.0 < 1.0.1`);
  }
});

test('an unknown name is a clear error listing the valid ones', (t) => {
  for (const name of ['debian', '', 'toString', '__proto__', 'DPKG']) {
    const err = t.throws(() => versionScheme(name), { instanceOf: UnknownVersionSchemeError });
    t.regex(err.message, /valid: dpkg, rpm, apk, pypi, npm, go, maven, gem/);
  }
});

test('every scheme says the same thing through isValid and compare', (t) => {
  const samples = ['1.0', '1.0.0', 'v1.0.0', '1:1.0-1', '1.0_rc1-r2', '1.0rc1', '1.0-SNAPSHOT', '1.0.a', '', ' ', 'junk', '1..0', '-1'];
  for (const name of VERSION_SCHEMES) {
    const scheme = versionScheme(name);
    for (const v of samples) {
      let compares = true;
      try {
        scheme.compare(v, v);
      } catch {
        compares = false;
      }
      t.is(compares, scheme.isValid(v), `${name} ${JSON.stringify(v)}`);
    }
  }
});
