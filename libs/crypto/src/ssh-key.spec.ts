import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CryptoError } from './errors.js';
import { parseSshPublicKey } from './ssh-key.js';

// Made with ssh-keygen (OpenSSH 9.2); the fingerprints are what `ssh-keygen -l` printed.
const ED25519 =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGg21lDVZQZpAhuLnAZ7+ntWF8uXWlVdx59kf2WInUVK buyer@example';
const RSA_2048 =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDxjRZ3Z6B5y+ATqEmjHpFcvh+UdkRqL3e79jsg2RMoeh1bmnSvfjbciNFjgqe+M5L4BczdA0OKRtIBKrU8j55QVCPOMG9bZEWoYBEkoUQ6uoxDqJSmrFKYuxoXMUFJpGEA7VaJuIHcIleaNodHpq0Ez50y8eqPSBq/6qQU1+kwPEUtdFOwAlP4D0AS42Mw43NmpG5aTMqb3+CbUqHeC7FrNpqHq91ZJi+xrWd6BP8K4x49jw5szWJUS9l0nx9Qo70teoh66wg8CTIZRwYt7VgpyotrtTJ5vmLwsYJcpaYiC7oFeeTVcBXy8Y9oE7664RJ4lvR2ikvX6drrBBac5+5/ rsa2048';
const RSA_1024 =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDDTH3+jFRJar8KfdcDFFBlyMkhe7XObEZHIc8DIYMs/PNjeiCxXSZVIiOrQ42NdNUj4MBQQjofe1hC1Rp3OviqSTVksQgsA4jtMwXyW53R8XZmyyzr4iP+tT3RnaLZq/smc62/1b4BdQVL+V6eQwloBBx0w0V0Sx03LW6twVUQZw== root@vm';
const EC_256 =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJVqoQ3n7lLW3ViKoocp5tSG/zIaz3Sal4m+h6kpWYcekkW2n5SLyPe/k6xmwgWKrgCm59kn6stTOlwiGdHxUa8= root@vm';
const EC_384 =
  'ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBOChNGnnoXLQGa/yis7gpZS3VjO8W/+FXbnqQ2Cnw4f3s+/C9ezysp6FmKlI0YjI/6GSYWcluSUSmaK4gMVIZXHu5f1+WgQyFW8tUvmojBlD4CppUS6gx6L6fo0K6hF/zg== root@vm';
const EC_521 =
  'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAG5XuWeJGMWsPykcsxwAbewfSCdqhH6reCuxJ4O9VY9/vsC8j1NjqDEcI4GIkDNWPdkr460GJa9wH0qgkC3YYUSTQBcMyerpB4X/l1xQ7vonhaNKCBGxt/97nuaEf7+gYREI6lH7tG49/c/tvjNvoIOAsRU8rHs73MbvdyOrAhwM5wUEg== ec521';

function refused(line: string): string {
  try {
    parseSshPublicKey(line);
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    expect((e as CryptoError).code).toBe('invalid_key');
    return (e as Error).message;
  }
  throw new Error(`accepted: ${line}`);
}

/** The blob of `line` with `mutate` applied, as a new line of the same type. */
function withBlob(line: string, mutate: (b: Buffer) => Buffer): string {
  const [type, b64] = line.split(' ');
  return `${type} ${mutate(Buffer.from(b64, 'base64')).toString('base64')}`;
}

describe('parseSshPublicKey', () => {
  it('accepts what ssh-keygen makes, with the fingerprint ssh-keygen prints', () => {
    const cases: [string, string, number, string][] = [
      [ED25519, 'ssh-ed25519', 256, 'SHA256:ZrfnqU7FqDGacqSRRid288XMCZLOz7dEE3aFptN/zw0'],
      [RSA_2048, 'ssh-rsa', 2048, 'SHA256:b/lKPDHrBhhoIK/rEEb7Zrc4tD5yiy1QNOQFRzcZ8ng'],
      [EC_256, 'ecdsa-sha2-nistp256', 256, 'SHA256:dD6K/y838ZSZGUQaY82bXHoY1lQZd7pgcdgh8YeVqOw'],
      [EC_384, 'ecdsa-sha2-nistp384', 384, 'SHA256:O3SaBtOhGuxgsUJmBGlF1kvb6W22LI5+T/yk5Uc82ZU'],
      [EC_521, 'ecdsa-sha2-nistp521', 521, 'SHA256:0SqlRVuBT00JI/OR+0ke/zSYX+imdHQTTdnlO8kdMUk'],
    ];
    for (const [line, type, bits, fingerprint] of cases) {
      const k = parseSshPublicKey(`  ${line}\n`);
      expect(k).toMatchObject({ type, bits, fingerprint });
      expect(k.line).toBe(line);
    }
    expect(parseSshPublicKey(ED25519).comment).toBe('buyer@example');
    expect(parseSshPublicKey(ED25519.split(' ').slice(0, 2).join(' ')).comment).toBe('');
  });

  it('refuses options, other types, short RSA keys and several lines', () => {
    expect(refused(`command="/bin/sh" ${ED25519}`)).toMatch(/unsupported key type/);
    expect(refused(`no-pty ${ED25519}`)).toMatch(/unsupported key type/);
    expect(refused(ED25519.replace('ssh-ed25519', 'ssh-dss'))).toMatch(/unsupported key type/);
    expect(refused(RSA_1024)).toMatch(/RSA key of 1024 bits/);
    expect(refused(`${ED25519}\n${EC_256}`)).toMatch(/line breaks/);
    expect(refused('')).toMatch(/empty/);
    expect(refused('ssh-ed25519')).toMatch(/expected/);
    expect(refused(`${ED25519} \u0007bell`)).toMatch(/printable/);
  });

  it('refuses a blob that lies about its type, is cut short, has extra bytes or a bad point', () => {
    // the line says ed25519, the blob is an ECDSA key
    expect(refused(`ssh-ed25519 ${EC_256.split(' ')[1]}`)).toMatch(/blob says/);
    expect(refused(withBlob(ED25519, (b) => b.subarray(0, b.length - 1)))).toMatch(/truncated/);
    expect(refused(withBlob(ED25519, (b) => Buffer.concat([b, Buffer.from([0])])))).toMatch(
      /trailing/,
    );
    // flip a bit of the EC point's Y coordinate: no longer on the curve
    expect(
      refused(
        withBlob(EC_256, (b) => {
          const c = Buffer.from(b);
          c[c.length - 1] ^= 1;
          return c;
        }),
      ),
    ).toMatch(/not on the curve/);
    expect(refused('ssh-ed25519 AAAA$$$$')).toMatch(/base64/);
    // non-zero padding bits: not the canonical encoding of any blob
    expect(refused(EC_256.replace('Ua8=', 'Ua9='))).toMatch(/canonical/);
  });

  it('never throws anything but invalid_key, and never accepts random bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        try {
          parseSshPublicKey(s);
          return false;
        } catch (e) {
          return e instanceof CryptoError && e.code === 'invalid_key';
        }
      }),
    );
    const types = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'sk-ssh-ed25519@openssh.com'];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 200 }), (type, bytes) => {
        expect(refused(`${type} ${Buffer.from(bytes).toString('base64') || 'AAAA'}`)).toBeTruthy();
      }),
    );
  });

  it('keeps a valid key valid under any comment of printable ASCII', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,60}[\x21-\x7e]$/), (comment) => {
        const k = parseSshPublicKey(`${ED25519.split(' ').slice(0, 2).join(' ')} ${comment}`);
        expect(k.comment).toBe(comment);
        expect(parseSshPublicKey(k.line)).toEqual(k);
      }),
    );
  });
});
