// axe-core on the console's states (see a11y-suite.ts).
import { accessibilitySuite } from './a11y-suite.ts';

accessibilitySuite('console');
