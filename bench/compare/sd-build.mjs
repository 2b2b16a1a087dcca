// Style Dictionary side of bench/run: build one css/variables file per group.
//
//   node sd-build.mjs CONFIG_DIR
//
// CONFIG_DIR holds one Style Dictionary config per group (<slug>.json, written
// by bench/run from the groups' nine effective colours), each reading that
// group's token file and writing that group's CSS. One configuration per
// brand, built in a loop in one process, is how Style Dictionary's own
// multi-brand example does it; a single config with a filtered file per group
// would filter every token once per group, quadratic in the number of groups.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import StyleDictionary from 'style-dictionary';

const dir = resolve(process.argv[2] ?? 'sd/config');
const configs = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
const log = { verbosity: 'silent', warnings: 'disabled' };
for (const name of configs) {
  const config = JSON.parse(await readFile(join(dir, name), 'utf8'));
  const sd = new StyleDictionary({ ...config, log });
  await sd.buildAllPlatforms();
}
console.log(`built ${configs.length} groups`);
