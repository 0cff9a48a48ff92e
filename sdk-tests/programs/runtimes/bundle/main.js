// A small project for esbuild to bundle (unmodified.bats).
import Greeter, { add } from './util.js';

const g = new Greeter('km');
console.log(g.greet(), add(1, 2));
