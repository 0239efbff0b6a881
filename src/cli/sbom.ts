import type { Command } from 'commander';
import { UserInputError } from '../core/errors.js';
import { openImage } from '../image/index.js';
import { toCycloneDx } from '../report/cyclonedx.js';
import { toInventoryJson } from '../report/inventory-json.js';
import { toSpdx } from '../report/spdx.js';
import { packagesTable } from '../report/table.js';
import { inventoryImage } from '../scan/index.js';
import { addImageOptions, type ImageFlags, imageOpenOptions } from './image-options.js';
import { writeOutput } from './output.js';
import { progressReporter } from './progress.js';

const FORMATS = ['cyclonedx', 'spdx', 'json', 'table'] as const;
type Format = (typeof FORMATS)[number];

interface SbomFlags extends ImageFlags {
  format: string;
  output?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('sbom')
    .summary('list every OS and language package in an image as an SBOM')
    .description(
      'Reads the image once (nothing is extracted to disk) and writes its packages, with the layer that brought ' +
        'each one, as CycloneDX 1.6 JSON, SPDX 2.3 JSON, Palisade JSON, or a table.',
    )
    .argument(
      '<target>',
      'docker-archive:PATH | oci:DIR[:TAG] | oci-archive:PATH | dir:PATH | registry:HOST/REPO[:TAG|@DIGEST] | PATH',
    )
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'cyclonedx')
    .option('-o, --output <file>', 'write to FILE instead of stdout (written atomically)')
    .option('-q, --quiet', 'no progress on stderr');
  addImageOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nExamples:\n  palisade sbom oci:./layout:1.0 --format spdx -o app.spdx.json\n  palisade sbom registry:127.0.0.1:5000/app:1.0 --insecure-registry --format table\n',
  );
  cmd.action(async (target: string, flags: SbomFlags) => {
    const format = flags.format as Format;
    if (!FORMATS.includes(format))
      throw new UserInputError(`--format: "${flags.format}" is not one of ${FORMATS.join(', ')}`);
    const progress = progressReporter({ quiet: flags.quiet });
    const openOpts = imageOpenOptions(flags);
    const image = await openImage(target, { ...openOpts, onProgress: progress.onProgress });
    try {
      const inv = await inventoryImage(image, { limits: openOpts.limits });
      progress.done();
      const out =
        format === 'cyclonedx'
          ? JSON.stringify(toCycloneDx(inv), null, 2)
          : format === 'spdx'
            ? JSON.stringify(toSpdx(inv), null, 2)
            : format === 'json'
              ? JSON.stringify(toInventoryJson(inv), null, 2)
              : packagesTable(inv);
      await writeOutput(out, flags.output);
      for (const w of inv.warnings) if (!flags.quiet) process.stderr.write(`palisade: warning: ${w}\n`);
    } finally {
      progress.done();
      await image.close();
    }
  });
}
