// Reads Bicep files with tree-sitter-bicep: syntax errors, resources, parameters and flattened properties.
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const Parser = require('tree-sitter');
const Bicep = require('tree-sitter-bicep');

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const infraDir = join(repoRoot, 'infra');

const parser = new Parser();
parser.setLanguage(Bicep);

export function bicepFiles(dir = infraDir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return bicepFiles(path);
    return name.endsWith('.bicep') ? [path] : [];
  });
}

export function parse(path) {
  // The native binding refuses one big string beyond its buffer; feed it in chunks.
  const text = readFileSync(path, 'utf8');
  const tree = parser.parse((index) => text.slice(index, index + 4096));
  return { path, text, root: tree.rootNode };
}

/** Every ERROR or MISSING node, located. */
export function syntaxErrors(file) {
  const found = [];
  const walk = (node) => {
    if (node.type === 'ERROR' || node.isMissing) {
      const { row, column } = node.startPosition;
      found.push(`${relative(repoRoot, file.path)}:${row + 1}:${column + 1}: ${node.isMissing ? `missing ${node.type}` : `unexpected ${JSON.stringify(node.text.slice(0, 40))}`}`);
    }
    for (const child of node.children) walk(child);
  };
  walk(file.root);
  return found;
}

const unquote = (text) => text.replace(/^'(.*)'$/s, '$1');

/** Resource declarations: symbol, type ("Microsoft.X/y@version"), and flattened properties. */
export function resources(file) {
  return file.root.namedChildren
    .filter((n) => n.type === 'resource_declaration')
    .map((node) => {
      const symbol = node.namedChildren[0].text;
      const type = unquote(node.namedChildren.find((c) => c.type === 'string').text);
      return { symbol, type, typeName: type.split('@')[0], properties: flatten(node), text: node.text };
    });
}

/** path → value text for every property under a node ("properties.siteConfig.minTlsVersion" → "'1.2'"). */
export function flatten(node, prefix = '', into = new Map()) {
  for (const child of node.namedChildren) {
    if (child.type === 'object_property') {
      const [key, value] = child.namedChildren;
      const path = prefix ? `${prefix}.${unquote(key.text)}` : unquote(key.text);
      into.set(path, value.text);
      flatten(value, path, into);
    } else if (child.type === 'array') {
      child.namedChildren.forEach((item, i) => flatten(item, `${prefix}[${i}]`, into));
    } else {
      flatten(child, prefix, into);
    }
  }
  return into;
}

/** Parameters: name → default value text (undefined when required). */
export function parameters(file) {
  return new Map(file.root.namedChildren
    .filter((n) => n.type === 'parameter_declaration')
    .map((n) => {
      const named = n.namedChildren;
      const hasDefault = named.length > 2;
      return [named[0].text, hasDefault ? named[named.length - 1].text : undefined];
    }));
}

export function outputs(file) {
  return file.root.namedChildren.filter((n) => n.type === 'output_declaration').map((n) => n.namedChildren[0].text);
}
