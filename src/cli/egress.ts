import { type Command, Option } from 'commander';
import { UserInputError } from '../core/errors.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `palisade egress`: the FQDN-allowlisting forward proxy. Flags only; the stage does the work. */
export function register(program: Command): void {
  const egress = program
    .command('egress')
    .description('Run the egress proxy: FQDN allowlists for containers, guarded against SSRF and DNS rebinding')
    .option('--config <file>', 'YAML policy file (reloaded on SIGHUP and when it changes)')
    .option('--listen <host:port>', 'quick start: proxy address', '127.0.0.1:3128')
    .option('--allow <host[:port]>', 'quick start: allow a name or *.wildcard (repeatable)', collect, [])
    .option(
      '--allow-cidr <cidr>',
      'quick start: allow IP literals and addresses in this CIDR (repeatable)',
      collect,
      [],
    )
    .option('--resolve <name=addr>', 'pin a name to an address, like curl (repeatable; still guarded)', collect, [])
    .option('--log <file|->', 'quick start: JSON access log target', '-')
    .option('--admin <host:port>', 'quick start: admin listener for /metrics and /healthz')
    .addOption(new Option('--no-watch', 'do not reload when the config file changes'))
    .action(async (opts) => {
      // The egress stage (and its config schema) loads only when the proxy runs.
      const { startEgress } = await import('../egress/index.js');
      const running = await startEgress({
        configPath: opts.config,
        quick: {
          listen: opts.listen,
          allow: opts.allow,
          allowCidr: opts.allowCidr,
          resolve: opts.resolve,
          log: opts.log,
          admin: opts.admin,
        },
        watch: opts.watch,
        onNotice: (message) => process.stderr.write(`palisade egress: ${message}\n`),
      });
      const { address, port } = running.address;
      process.stderr.write(`palisade egress: listening on ${address}:${port}\n`);
      process.on('SIGHUP', () => running.reload());
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.stderr.write('palisade egress: draining\n');
          running.stop().then(resolve, resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });

  egress
    .command('hash-token')
    .description("Hash a proxy token for a client's tokenHash (reads the token from stdin)")
    .action(async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const token = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
      if (token.length < 16) {
        throw new UserInputError('hash-token: token must be at least 16 characters (read from stdin)');
      }
      const { hashToken } = await import('../egress/index.js');
      process.stdout.write(`${await hashToken(token)}\n`);
    });
}
