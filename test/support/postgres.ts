/**
 * One helper starts a real PostgreSQL server for a test run (in the style of nats.js's test
 * servers): initdb into a temp dir, start on a free port with its unix socket in that dir, stop
 * and delete it afterwards. Without the binaries it falls back to the machine's server at
 * 127.0.0.1:5432 (trust auth, database `test`). Either way every store gets a fresh schema, so
 * tests never share state.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** Connection settings for `pg`. */
  readonly connection: pg.PoolConfig;
  /** A schema name no other store of this run (or any other run) uses. */
  schema(): string;
  readonly private: boolean;
  stop(): Promise<void>;
}

const BIN = '/usr/local/bin';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function uniqueSchema(): string {
  return `t_${process.pid}_${randomBytes(6).toString('hex')}`;
}

async function startPrivate(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  // initdb and postgres refuse to run as root: run them as the `postgres` user then.
  const root = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    root
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args], {
          stdio: 'pipe',
        })
      : execFileSync(join(BIN, cmd), args, { stdio: 'pipe' });
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    run('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    run('pg_ctl', [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses= -c fsync=off -c synchronous_commit=off`,
      'start',
    ]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    connection: { host: dir, port, user: 'postgres', database: 'postgres', max: 4 },
    schema: uniqueSchema,
    private: true,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return Promise.resolve();
    },
  };
}

function machineServer(): TestPostgres {
  const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 };
  const made: string[] = [];
  return {
    connection,
    schema: () => {
      const s = uniqueSchema();
      made.push(s);
      return s;
    },
    private: false,
    stop: async () => {
      const c = new pg.Client(connection);
      await c.connect();
      try {
        for (const s of made)
          await c.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(s)} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * A private server when the binaries are installed, else the machine's server
 * (`SLUICE_TEST_PG=machine` forces the latter).
 */
export async function startPostgres(): Promise<TestPostgres> {
  if (
    process.env.SLUICE_TEST_PG !== 'machine' &&
    existsSync(join(BIN, 'initdb')) &&
    existsSync(join(BIN, 'pg_ctl'))
  ) {
    try {
      return await startPrivate();
    } catch (e) {
      // e.g. running as root with no `postgres` user to run initdb as.
      process.stderr.write(
        `private PostgreSQL did not start (${String(e)}); using 127.0.0.1:5432\n`,
      );
    }
  }
  return machineServer();
}
