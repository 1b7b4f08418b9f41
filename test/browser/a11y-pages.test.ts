// axe-core on the reader's pages and stories (see a11y-suite.ts).
import { accessibilitySuite } from './a11y-suite.ts';

accessibilitySuite('pages');
