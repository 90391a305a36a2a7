// The compiled ARM template of infra/main.bicep (written by .ci/run with the real Bicep CLI) and lookups into it.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const infraDir = join(repoRoot, 'infra');
const compiled = process.env.ARM_TEMPLATE ?? join(repoRoot, '.ci', 'bicep', 'out', 'main.json');

export const main = JSON.parse(readFileSync(compiled, 'utf8'));

/** The template of a module deployment of main.bicep, by its deployment name. */
export function module(name) {
  const deployment = main.resources.find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === name);
  if (!deployment) throw new Error(`main.bicep has no module deployment '${name}'`);
  return deployment.properties.template;
}

/** A module's arguments as main.bicep passes them (ARM expressions as strings). */
export function moduleArgs(name) {
  const deployment = main.resources.find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === name);
  return Object.fromEntries(Object.entries(deployment.properties.parameters).map(([k, v]) => [k, v.value]));
}

export function resources(template, type) {
  const list = Array.isArray(template.resources) ? template.resources : Object.values(template.resources);
  return type ? list.filter((r) => r.type === type) : list;
}

export function one(template, type) {
  const found = resources(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

const guid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Every role definition guid a template's role assignments name, directly or through its variables. */
export function assignedRoles(template) {
  const vars = template.variables ?? {};
  const roles = new Set();
  const visit = (text, seen = new Set()) => {
    for (const m of text.matchAll(guid)) roles.add(m[0]);
    for (const [, name] of text.matchAll(/variables\('(\w+)'\)/g)) {
      if (seen.has(name) || !(name in vars)) continue;
      seen.add(name);
      visit(JSON.stringify(vars[name]), seen);
    }
  };
  visit(JSON.stringify(resources(template, 'Microsoft.Authorization/roleAssignments')));
  return roles;
}
