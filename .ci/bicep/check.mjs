// Syntax check of every infra/*.bicep file; exits non-zero with file:line:column for each problem.
import { bicepFiles, parse, syntaxErrors, repoRoot } from './bicep.mjs';
import { relative } from 'node:path';

const files = bicepFiles();
const problems = files.flatMap((path) => syntaxErrors(parse(path)));
for (const problem of problems) console.error(problem);
console.log(`bicep syntax: ${files.length} file(s) checked, ${problems.length} problem(s): ${files.map((f) => relative(repoRoot, f)).join(', ')}`);
process.exit(problems.length === 0 && files.length > 0 ? 0 : 1);
