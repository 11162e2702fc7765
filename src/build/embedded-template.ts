/**
 * The last step of `npm run build`: the migrated, empty embedded database that a first start
 * on the embedded default copies instead of running initdb (src/storage/embedded-template.ts).
 * Rebuilt only when the migrations or PGlite changed, so repeated builds stay quick.
 */
import { PACKAGED_TEMPLATE, templateIsCurrent } from '../storage/embedded-template.js';
import { buildEmbeddedTemplate } from '../storage/build-embedded-template.js';

if (templateIsCurrent(PACKAGED_TEMPLATE)) {
  process.stdout.write(`embedded template: current (${PACKAGED_TEMPLATE})\n`);
} else {
  await buildEmbeddedTemplate(PACKAGED_TEMPLATE);
  process.stdout.write(`embedded template: built (${PACKAGED_TEMPLATE})\n`);
}
